"""Every model card's wording, in one place: what the command line prints after a `train-*` command and what
data_samples/checkpoints/README.md says about each shipped checkpoint (tools/write_model_card.py writes it)."""
