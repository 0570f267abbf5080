"""Train and measure the seed article's four remaining claims (notebook 13), one budget for all.

    .venv/bin/python tools/measure_claims.py [--claims skips,prior,perceptual,restoration] [--ae-steps 800] ...

Trains (one thread, one process, one model at a time) into --work (runs/claims by default; a model already
there is reused, so measuring again does not train again), measures, and writes one JSON per claim into
data_samples/checkpoints/claims/ (figures, the rule, the verdict, the budget and this command), plus the two
checkpoints notebook 13 loads live: the U-Net-skip DCAE and the restoration fine-tune.
The library pieces are minidcae.claims.article and minidcae.claims.restoration.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import torch

from minidcae.claims import article as ac
from minidcae.claims import restoration as rs
from minidcae.claims import variants as cv
from minidcae.core.checkpoint import save_model, write_json
from minidcae.core.config import SHIPPED_CLAP, SHIPPED_CLASSIFIER, SHIPPED_DCAE
from minidcae.core.profiles import get_profile
from minidcae.models.clap import load_clap
from minidcae.models.classifier import load_classifier
from minidcae.models.dcae import load_autoencoder
from minidcae.models.transformer import load_transformer
from minidcae.recipes.transformer import train_transformer
from minidcae.training.recipe import Run, hardware


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--claims", default="skips,prior,perceptual,restoration")
    p.add_argument("--profile", default="cpu", help="whose DCAE, transformer and data sizes (steps set below)")
    p.add_argument("--ae-steps", type=int, default=800, help="steps of every DCAE trained from scratch")
    p.add_argument("--ae-batch", type=int, default=8)
    p.add_argument("--tr-steps", type=int, default=1000, help="steps of every latent transformer")
    p.add_argument("--tr-clips", type=int, default=1024, help="clips every latent transformer trains on")
    p.add_argument("--restore-steps", type=int, default=300, help="fine-tune steps of the restoration DCAE")
    p.add_argument("--perceptual-weight", type=float, default=1.0)
    p.add_argument("--per-label", type=int, default=8, help="generated clips per prompt (12 prompts) for the prior")
    p.add_argument("--perceptual-clips", type=int, default=48)
    p.add_argument(
        "--device", default="cpu", help="where to train and measure: cpu (what the shipped files used), cuda"
    )
    p.add_argument("--work", default="runs/claims")
    p.add_argument("--out", default=str(cv.CLAIMS_DIR))
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    command = "python tools/measure_claims.py " + shlex.join(sys.argv[1:] if argv is None else argv)
    profile = get_profile(args.profile)
    mel, work, out = profile.mel, Path(args.work), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    ae_train = replace(profile.ae_train, steps=args.ae_steps, batch_size=args.ae_batch, adv_steps=0)
    budget = {
        "profile": profile.name,
        "dcae": asdict(ae_train),
        "dcae_config": asdict(profile.ae),
        "hardware": hardware(args.device),
    }
    classifier, _ = load_classifier(SHIPPED_CLASSIFIER)

    def dcae(kind: str):
        path = work / kind / "autoencoder.safetensors"
        if not path.exists():
            judge = classifier if kind == "perceptual" else None
            start = time.perf_counter()
            cv.train_variant(
                path,
                cv.variant_config(profile.ae, kind),
                ae_train,
                mel,
                judge,
                args.perceptual_weight,
                args.device,
                False,
            )
            print(f"trained {kind} DCAE in {time.perf_counter() - start:.0f} s", flush=True)
        return load_autoencoder(path)

    def card(meta) -> dict:
        info = meta["info"]
        return {"config": meta["config"], "train_seconds": info["train_seconds"], "last_losses": info["last_losses"]}

    def write(name: str, report: dict, verdict: dict, rule: str, models: dict, extra: dict | None = None) -> None:
        doc = {"command": command, "budget": budget, **(extra or {}), "models": models, "rule": rule}
        doc.update(report=report, verdict=verdict)
        write_json(out / f"{name}.json", doc)
        print(f"{name}: {verdict}", flush=True)

    claims = args.claims.split(",")
    if "skips" in claims:
        (plain, pm), (skip, sm) = dcae("plain"), dcae("skips")
        mels, names = cv.heldout_mel_set(mel)
        report = ac.skip_report(plain, skip, mels, mel)
        report["names"] = names
        write("skips", report, ac.skip_verdict(report), ac.SKIP_RULE, {"plain": card(pm), "skips": card(sm)})
        for suffix in (".safetensors", ".json"):
            shutil.copy(work / "skips" / f"autoencoder{suffix}", out / f"dcae_skips{suffix}")

    if "prior" in claims:
        gen = replace(profile.generation, n_clips=args.tr_clips)
        tr_profile = replace(profile, generation=gen)
        (plain, pm), (_, km) = dcae("plain"), dcae("kl")
        raw_path = work / "plain_raw" / "autoencoder.safetensors"
        if not raw_path.exists():  # the plain DCAE with its latent stats reset: the transformer sees raw latents
            raw = load_autoencoder(work / "plain" / "autoencoder.safetensors")[0]
            raw.latent_mean.zero_(), raw.latent_std.fill_(1.0)
            save_model(
                raw_path, raw, "dcae", raw.cfg, {**pm["info"], "latent_stats": "reset to mean 0, std 1"}, torch.float16
            )
        variants, transformers = {}, {}
        for name, path in (
            ("plain_raw", raw_path),
            ("plain", work / "plain" / "autoencoder.safetensors"),
            ("kl", work / "kl" / "autoencoder.safetensors"),
        ):
            t_path = work / f"transformer_{name}" / "transformer.safetensors"
            if not t_path.exists():
                overrides = {"steps": str(args.tr_steps)}
                train_transformer(
                    t_path.parent,
                    tr_profile,
                    path,
                    Run(overrides=overrides, device=args.device, quiet=True, evaluate=False),
                )
            t, tm = load_transformer(t_path)
            variants[name] = (load_autoencoder(path)[0], t)
            transformers[name] = {
                "train_seconds": tm["info"]["train_seconds"],
                "train": tm["info"]["train"],
                "n_clips": gen.n_clips,
            }
        report = ac.prior_report(variants, classifier, mel, gen, per_label=args.per_label, steps=gen.steps)
        write(
            "prior",
            report,
            ac.prior_verdict(report),
            ac.PRIOR_RULE,
            {"plain": card(pm), "kl": card(km)},
            {"transformers": transformers},
        )

    if "perceptual" in claims:
        (plain, pm), (perc, qm) = dcae("plain"), dcae("perceptual")
        clap, _ = load_clap(SHIPPED_CLAP)
        report = ac.perceptual_report(
            {"plain": plain, "perceptual": perc},
            classifier,
            clap,
            mel,
            n=args.perceptual_clips,
            gl_iters=profile.griffin_lim_iters,
        )
        extra = {
            "perceptual_weight": args.perceptual_weight,
            "judge": SHIPPED_CLASSIFIER.name,
            "independent_judge": SHIPPED_CLAP.name,
        }
        write(
            "perceptual",
            report,
            ac.perceptual_verdict(report),
            ac.PERCEPTUAL_RULE,
            {"plain": card(pm), "perceptual": card(qm)},
            extra,
        )

    if "restoration" in claims:
        path = work / "restore" / "autoencoder.safetensors"
        r_train = replace(
            profile.ae_train, steps=args.restore_steps, batch_size=args.ae_batch, lr=5e-4, adv_steps=0, n_clips=128
        )
        if not path.exists():
            model, meta = load_autoencoder(SHIPPED_DCAE)
            start = time.perf_counter()
            rs.finetune_restorer(model, r_train, mel, device=args.device, quiet=False)
            info = {
                **meta["info"],
                "finetuned_from": SHIPPED_DCAE.name,
                "restoration_train": asdict(r_train),
                "restoration_train_seconds": round(time.perf_counter() - start, 1),
                "damage": "restoration.random_damage",
            }
            save_model(path, model, "dcae", model.cfg, info, torch.float16)
            print(f"fine-tuned the restorer in {time.perf_counter() - start:.0f} s", flush=True)
        finetuned, fm = load_autoencoder(path)
        shipped, _ = load_autoencoder(SHIPPED_DCAE)
        report = rs.restoration_report({"shipped": shipped, "finetuned": finetuned}, mel, profile.griffin_lim_iters)
        extra = {"damage": rs.EVAL_DAMAGE, "restoration_train": asdict(r_train), "set_means": rs.set_means(report)}
        models = {"finetuned": {"from": SHIPPED_DCAE.name, "train_seconds": fm["info"]["restoration_train_seconds"]}}
        write("restoration", report, rs.restoration_verdict(report), rs.RESTORATION_RULE, models, extra)
        for suffix in (".safetensors", ".json"):
            shutil.copy(work / "restore" / f"autoencoder{suffix}", out / f"dcae_restore{suffix}")


if __name__ == "__main__":
    main()
