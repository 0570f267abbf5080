"""Few-step generation: the teacher at 30 guided steps against its reflow student at 1, 2 and 4 unguided steps.

    python benchmarks/few_step.py [--student runs/distill/transformer.safetensors] [--per-prompt 8]

Speed: seconds of audio per second for one 10 s clip, end to end on this process's threads (sampling, the DCAE
decoder, the neural vocoder), each row timed in this run, side by side. Obedience: per "mood instrument" prompt
`--per-prompt` clips of 3 s, judged by the label classifier (instrument accuracy with a 95% bootstrap interval)
and KAD / Frechet distance of its embeddings to as many held-out real clips (distances.embedding_distances).
Writes benchmarks/results/few_step.json.
"""

import argparse

import torch
from common import save

from minidcae.bench.speed import time_call
from minidcae.core.config import DATA_SAMPLES, SHIPPED_CLASSIFIER, SHIPPED_DCAE, SHIPPED_TRANSFORMER, SHIPPED_VOCODER
from minidcae.generation.pipeline import generate, generate_mels
from minidcae.generation.sampling import latent_frame_rate, prompt_grid
from minidcae.measure.distances import bootstrap_interval, embedding_distances
from minidcae.models.classifier import labelled_mels, load_classifier, predict
from minidcae.models.dcae import load_autoencoder, mel_config_of
from minidcae.models.transformer import load_transformer
from minidcae.models.vocoder import load_vocoder
from minidcae.training.recipe import hardware

TARGET = 100.0  # seconds of audio per second, end to end, one thread: the few-step student's target


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--student", default=str(DATA_SAMPLES / "checkpoints" / "dit_fast.safetensors"))
    parser.add_argument("--per-prompt", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    ae, meta = load_autoencoder(SHIPPED_DCAE)
    mel = mel_config_of(meta)
    teacher, _ = load_transformer(SHIPPED_TRANSFORMER)
    student, _ = load_transformer(args.student)
    vocoder, _ = load_vocoder(SHIPPED_VOCODER)
    judge, _ = load_classifier(SHIPPED_CLASSIFIER)
    rows = [("teacher", teacher, 30, "cfg")] + [("student", student, s, "none") for s in (1, 2, 4)]

    prompts, want, _ = prompt_grid(args.per_prompt)
    frames = round(3.0 * latent_frame_rate(mel, ae))
    real, _, _ = labelled_mels(len(prompts), 3.0, mel, heldout=True)
    e_real = predict(judge, real)[0]
    results = []
    for name, model, steps, guidance in rows:
        speed = time_call(
            lambda m=model, s=steps, g=guidance: generate(
                m, ae, mel, "happy piano", args.seconds, vocoder=vocoder, steps=s, guidance=g
            ),
            repeat=3,
        )
        mels = generate_mels(model, ae, prompts, frames, steps=steps, guidance=guidance, seed=0)[:, :1]
        e, heard, _ = predict(judge, mels)
        hits = (heard == want).float()
        distances = embedding_distances(e_real, e)
        results.append(
            {
                "model": name,
                "steps": steps,
                "guidance": guidance,
                "network_calls": steps * (2 if guidance == "cfg" else 1),
                "seconds": speed,
                "audio_per_second": args.seconds / speed,
                "instrument_accuracy": float(hits.mean()),
                "instrument_interval": bootstrap_interval(lambda h: h.mean(), hits),
                **{k: distances[k] for k in ("kad", "kad_interval", "frechet", "frechet_interval")},
            }
        )
    where = hardware("cpu")
    print(
        f"{args.seconds:g} s clip end to end (sampling, DCAE decoder, neural vocoder) on {where}; obedience on "
        f"{len(prompts)} clips of 3 s ({args.per_prompt} per prompt)"
    )
    print(
        f"{'model':8s} {'steps':>5s} {'calls':>5s} {'audio s/s':>9s} {'vs teacher':>10s}  {'instrument acc':>22s}  {'KAD':>26s}  {'Frechet':>7s}"
    )
    for r in results:
        lo, hi = r["instrument_interval"]
        klo, khi = r["kad_interval"]
        print(
            f"{r['model']:8s} {r['steps']:5d} {r['network_calls']:5d} {r['audio_per_second']:9.1f} "
            f"{r['audio_per_second'] / results[0]['audio_per_second']:9.2f}x  {r['instrument_accuracy']:.3f} [{lo:.3f}, {hi:.3f}]  "
            f"{r['kad']:+.4f} [{klo:+.4f}, {khi:+.4f}]  {r['frechet']:7.2f}"
        )
    # the same student at 1 step with its transformer and the vocoder compiled (generate --compile); the compile
    # happens in time_call's warm-up call, so the figure is the steady state
    compiled_student, compiled_vocoder = torch.compile(student), torch.compile(vocoder)
    compiled_s = time_call(
        lambda: generate(
            compiled_student, ae, mel, "happy piano", args.seconds, vocoder=compiled_vocoder, steps=1, guidance="none"
        ),
        repeat=3,
    )
    eager_wav = generate(student, ae, mel, "happy piano", args.seconds, vocoder=vocoder, steps=1, guidance="none")
    compiled_wav = generate(
        compiled_student, ae, mel, "happy piano", args.seconds, vocoder=compiled_vocoder, steps=1, guidance="none"
    )
    compiled_row = {
        "model": "student, compiled",
        "steps": 1,
        "seconds": compiled_s,
        "audio_per_second": args.seconds / compiled_s,
        "max_abs_difference": float((compiled_wav - eager_wav).abs().max()),  # against the eager clip, same noise
        "peak": float(eager_wav.abs().max()),
    }
    print(
        f"student at 1 step, transformer and vocoder compiled: {compiled_row['audio_per_second']:.1f} s of audio per "
        f"second; its clip differs from the eager one by at most {compiled_row['max_abs_difference']:.1e} "
        f"(peak {compiled_row['peak']:.2f})"
    )
    teacher_row = results[0]
    t_lo, t_hi = teacher_row["kad_interval"]
    verdicts = []
    for r in results[1:]:
        fast = max(r["audio_per_second"], compiled_row["audio_per_second"] if r["steps"] == 1 else 0) >= TARGET
        accurate = r["instrument_accuracy"] >= teacher_row["instrument_accuracy"] - 0.02
        close = t_lo <= r["kad"] <= t_hi
        verdicts.append(
            {
                "steps": r["steps"],
                "at_least_100x": fast,
                "accuracy_within_2_points": accurate,
                "kad_in_teacher_interval": close,
            }
        )
        print(
            f"student at {r['steps']} step(s): >= {TARGET:g}x real time: {fast}; instrument accuracy within 2 points: "
            f"{accurate}; KAD inside the teacher's interval: {close}"
        )
    print(
        f"wrote {save('few_step', {'machine': where, 'seconds': args.seconds, 'rows': results, 'compiled': compiled_row, 'verdicts': verdicts})}"
    )


if __name__ == "__main__":
    torch.set_grad_enabled(False)
    main()
