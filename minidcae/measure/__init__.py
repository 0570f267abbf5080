"""How good it is: metrics by family, judges of generated audio, latent analysis, evaluation of reconstructions.

    spectral    STFT and mel distances (MR-STFT, mel L1 in dB, mel SNR)
    speech      SI-SDR, STOI, PESQ
    rhythm      onsets and tempo
    distances   bootstrap intervals, KAD (named bandwidth rules and scale), the Frechet distance
    retrieval   R@k, mean and median rank, mAP@10 (LAION-CLAP's figures)
    chroma      chromagrams, chroma similarity, key finding
    pitch       a pitch tracker and note accuracy
    latent      what latents hold: statistics, PCA, neighbours, paths
    obedience   the one judge of generated audio; prompts (held-out phrasings) and editing use it
    guidance    ACE-Step's guidance window against guiding every step, judged the same way
    evaluate    a DCAE against the oracle on a folder of clips

May import: core, sound, models, training, generation (the layers are written in CONTRIBUTING.md and checked by `make test`).
"""
