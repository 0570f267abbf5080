"""Checkpoints as safetensors plus JSON: tensors in one file, the config beside them, never pickle.

    save_model / load_model        a trained model: `NAME.safetensors` (weights, with the config
                                   in the file's metadata) and `NAME.json` (the same config, to read)
    save_training_state / load_training_state
                                   everything `resume` needs: weights, optimiser moments, EMA,
                                   step and random-number state

Every file is written to a temp name beside it, then renamed, so a killed run leaves the last
complete checkpoint, never half of one.

Taught in notebook 03 (training for real).
"""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from pathlib import Path

import torch
import torch.nn as nn
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from minidcae.core.errors import MinidcaeError
from minidcae.core.files import atomic_write

META_KEY = "minidcae"


class CheckpointError(MinidcaeError):
    """A checkpoint is missing, corrupt, or was made for another model."""


def save_tensors(path, tensors: dict, meta: dict) -> Path:
    """Tensors to `path` (.safetensors) with `meta` (any JSON) stored in the file's metadata."""
    tensors = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
    return atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata={META_KEY: json.dumps(meta)}))


def load_tensors(path, device="cpu") -> tuple[dict, dict]:
    """(tensors, meta) from a file save_tensors wrote. Raises CheckpointError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = json.loads((f.metadata() or {}).get(META_KEY, "{}"))
        tensors = load_file(str(path), device=str(device))
    except (SafetensorError, OSError, ValueError, json.JSONDecodeError) as err:
        raise CheckpointError(f"{path}: not a readable minidcae checkpoint ({err})") from None
    return tensors, meta


def write_json(path, obj) -> Path:
    return atomic_write(path, lambda tmp: Path(tmp).write_text(json.dumps(obj, indent=2) + "\n"))


def config_from_dict(cls, values: dict):
    """Rebuild a config dataclass from its JSON dict (tuples come back as lists)."""
    names = {f.name for f in fields(cls)}
    unknown = set(values) - names
    if unknown:
        raise CheckpointError(f"config has fields {sorted(unknown)} that {cls.__name__} does not know")
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


# ----------------------------------------------------------------------------- finished models


def save_model(path, model: nn.Module, kind: str, config, info: dict | None = None, dtype=None) -> Path:
    """`path` without suffix -> path.safetensors and path.json. `config` is the model's dataclass.

    dtype=torch.float16 stores floating-point weights at half size; loading casts them back.
    """
    path = Path(path).with_suffix("")
    meta = {"kind": kind, "config": asdict(config), "info": info or {}}
    state = {
        k: v.to(dtype) if dtype is not None and v.is_floating_point() else v for k, v in model.state_dict().items()
    }
    save_tensors(path.with_suffix(".safetensors"), state, meta)
    write_json(path.with_suffix(".json"), meta)
    return path.with_suffix(".safetensors")


def load_model(path, builders: dict, device="cpu") -> tuple[nn.Module, dict]:
    """Rebuild the model a checkpoint describes and load its weights strictly.

    builders maps a checkpoint's kind (e.g. "dcae") to (ConfigClass, ModelClass).
    """
    path = Path(path)
    if path.suffix != ".safetensors":
        path = path.with_suffix(".safetensors")
    tensors, meta = load_tensors(path, device)
    kind = meta.get("kind")
    if kind not in builders:
        raise CheckpointError(f"{path}: holds a {kind!r} model, expected one of {sorted(builders)}")
    config_cls, model_cls = builders[kind]
    model = model_cls(config_from_dict(config_cls, meta["config"])).to(device)
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError as err:
        first = str(err).strip().splitlines()[1:2] or [str(err)]
        raise CheckpointError(
            f"{path}: weights do not fit the model its config describes: {first[0].strip()}"
        ) from None
    return model.eval(), meta


# ----------------------------------------------------------------------------- training state


def save_training_state(
    path, modules: dict, optimizers: dict, emas: dict, step: int, extra: dict | None = None
) -> Path:
    tensors, meta = {}, {"step": step, "optimizers": {}, "extra": extra or {}}
    for name, module in modules.items():
        tensors.update({f"model.{name}.{k}": v for k, v in module.state_dict().items()})
    for name, module in emas.items():
        tensors.update({f"ema.{name}.{k}": v for k, v in module.state_dict().items()})
    for name, opt in optimizers.items():
        state = opt.state_dict()
        scalars = {}
        for pid, entries in state["state"].items():
            for key, value in entries.items():
                if torch.is_tensor(value):
                    tensors[f"opt.{name}.{pid}.{key}"] = value
                else:
                    scalars[f"{pid}.{key}"] = value
        meta["optimizers"][name] = {"param_groups": state["param_groups"], "scalars": scalars}
    tensors["rng.torch"] = torch.get_rng_state()
    if torch.cuda.is_available():
        tensors["rng.cuda"] = torch.cuda.get_rng_state()
    return save_tensors(path, tensors, meta)


def load_training_state(path, modules: dict, optimizers: dict, emas: dict, device="cpu") -> tuple[int, dict]:
    """Restore what save_training_state wrote into the given objects; returns (step, extra)."""
    tensors, meta = load_tensors(path, "cpu")

    def part(prefix):
        return {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}

    try:
        for name, module in modules.items():
            module.load_state_dict({k: v.to(device) for k, v in part(f"model.{name}.").items()}, strict=True)
        for name, module in emas.items():
            module.load_state_dict({k: v.to(device) for k, v in part(f"ema.{name}.").items()}, strict=True)
        for name, opt in optimizers.items():
            saved = meta["optimizers"][name]
            state: dict = {}
            for key, value in part(f"opt.{name}.").items():
                pid, field = key.split(".", 1)
                state.setdefault(int(pid), {})[field] = value.to(device)
            for key, value in saved["scalars"].items():
                pid, field = key.split(".", 1)
                state.setdefault(int(pid), {})[field] = value
            opt.load_state_dict({"state": state, "param_groups": saved["param_groups"]})
    except (RuntimeError, KeyError, ValueError) as err:
        raise CheckpointError(f"{path}: does not match this run's models ({str(err).splitlines()[0]})") from None
    torch.set_rng_state(tensors["rng.torch"])
    if "rng.cuda" in tensors and torch.cuda.is_available():
        torch.cuda.set_rng_state(tensors["rng.cuda"])
    return meta["step"], meta["extra"]
