"""The seed article's claim, tested: does a contrastively trained text encoder ("such as CLAP") make generation
follow its prompt better than a word encoder trained with the generator?

    VERDICT_RULE         the rule, stated before any figure was seen
    claim_verdict        the rule applied to two evaluate_prompts results (word encoder vs miniCLAP; the
                         figures come from minidcae.measure.prompts.evaluate_prompts)

Two transformers, trained from scratch with the same data, steps and sizes, differ only in TransformerConfig.text:
"phrases" (the word encoder over miniCLAP's vocabulary) or "clap" (miniCLAP's frozen text tower). Both read
miniCLAP's training phrasings and are tested on its held-out ones (word orders and synonym pairings neither saw).
Each figure carries a 95% bootstrap interval over the clips (distances.bootstrap_interval): at 96 clips an
accuracy is known to about +-0.1, and the verdict says "no difference" unless the intervals separate.
Written by `minidcae train-transformer ... text=phrases|clap --classifier C` onto the checkpoint's card.
"""

from __future__ import annotations

VERDICT_RULE = (
    "miniCLAP conditioning improves generation accuracy if the 95% interval of its instrument or mode accuracy "
    "lies wholly above the word encoder's (and neither lies wholly below); it lowers it in the mirror case. "
    "When the accuracies do not separate, it is better if its CLAP-score interval lies above the word encoder's "
    "and its KAD interval does not lie above (worse in the mirror case); otherwise: no difference at this scale."
)


def _above(a: list, b: list) -> bool:
    """Interval a lies wholly above interval b."""
    return a[0] > b[1]


def claim_verdict(words: dict, clap: dict) -> dict:
    """VERDICT_RULE applied to evaluate_prompts results of the word-encoder ("phrases") and miniCLAP ("clap")
    models: {"verdict": "improves" | "lowers" | "no difference at this scale" | "mixed", "because": ...}."""
    accuracies = ("instrument_accuracy", "mode_accuracy")
    up = [k for k in accuracies if _above(clap[k]["interval"], words[k]["interval"])]
    down = [k for k in accuracies if _above(words[k]["interval"], clap[k]["interval"])]
    if up and down:
        return {"verdict": "mixed", "because": f"miniCLAP higher on {up}, lower on {down}", "rule": VERDICT_RULE}
    if up or down:
        verdict = "improves" if up else "lowers"
        return {"verdict": verdict, "because": f"intervals separate on {up or down}", "rule": VERDICT_RULE}
    c_score, w_score = clap["clap_score"]["interval"], words["clap_score"]["interval"]
    c_kad, w_kad = clap["distances"]["kad_interval"], words["distances"]["kad_interval"]
    if _above(c_score, w_score) and not _above(c_kad, w_kad):
        return {"verdict": "improves", "because": "CLAP score interval above, KAD not worse", "rule": VERDICT_RULE}
    if _above(w_score, c_score) and not _above(w_kad, c_kad):
        return {"verdict": "lowers", "because": "CLAP score interval below, KAD not better", "rule": VERDICT_RULE}
    return {
        "verdict": "no difference at this scale",
        "because": "no accuracy interval separates, and CLAP score and KAD do not both favour one",
        "rule": VERDICT_RULE,
    }
