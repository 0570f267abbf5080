"""minidcae: a small, readable library for learning latent audio generation.

Its rooms, from the bottom up; each imports only from the rooms below it (CONTRIBUTING.md, checked by
import-linter in `make test`):

    core        configs and profiles, errors, atomic files, checkpoints
    sound       audio files, log-mel, Griffin-Lim, the synthesizer, datasets, long audio, notes and MIDI
    models      every nn.Module, with the encoders of its inputs
    training    the loop, losses, flow matching, ranks, the recipe skeleton, cards
    generation  sampling, the pipeline from prompt to audio, editing
    measure     metrics, judges, latent analysis, evaluation
    recipes     one `minidcae train-*` command each
    claims, bench, teach    the article's claims; speed; what a lesson shows (checker, toy, plots)
    cli         the command line
"""

__version__ = "0.1.0"
