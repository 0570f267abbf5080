"""Write data_samples/checkpoints/README.md from the shipped checkpoints' own JSON.

    python tools/write_model_card.py

Every figure on the card is read from the JSON the training commands wrote beside each checkpoint
(dcae_t8*.json, vocoder*.json, sweep/*.json, label_classifier.json, transformer.json, transformer_melody*.json,
clap.json, claim/transformer_*.json); nothing is typed by hand. The wording is minidcae.cli.cards' (the same
words the command line prints after training); a section whose checkpoint is missing is left out.
"""

from minidcae.cli.cards.page import model_card
from minidcae.core.config import DATA_SAMPLES

CKPT = DATA_SAMPLES / "checkpoints"


def main() -> None:
    (CKPT / "README.md").write_text(model_card(CKPT))


if __name__ == "__main__":
    main()
