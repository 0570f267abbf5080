"""The exercises' hints, kept here so that no hint sits on a notebook's page above its exercise:
`check.hint("my_space_to_channel")` prints the next one. Taught with every notebook's exercises.

Each exercise has two or three hints, each nearer than the one before; the last is a plan in words,
never the answer (tests/test_exercise_order.py fails when a hint holds a line of its exercise's
solution, or names no exercise of any notebook). The key is the name the student meets: the
student's function (`my_...`) for a build exercise, the name given to `check.exercise(...)` for an
open one. One table per notebook, so that each notebook's hints are edited in one place.
"""

from __future__ import annotations

NB00 = {
    "my_mel_filterbank": (
        "Work in float64 and cast to float32 at the end. Three pieces: Hz to mel, mel to Hz (its inverse), "
        "and the n_mels + 2 edge points spaced evenly in mel.",
        "Each triangle is the smaller of a line rising from its left edge to its centre and one falling from its "
        "centre to its right edge, clamped at 0; broadcast the bins' frequencies (F, 1) against the edges (M,).",
        "If only the front ends with f_min > 0 or many mels are off, look at 1 kHz: the two pieces of the mel "
        "scale must meet there. If every weight is off by a factor, look at the equal-area normalisation.",
    ),
    "my_griffin_lim_step": (
        "magnitude * phase is a complex (N, n_freqs, frames) spectrogram; torch.istft takes it to (N, samples) "
        "and torch.stft brings that back.",
        "Use the same Hann window of cfg.win_length, n_fft and hop in both transforms, and give the inverse the "
        "waveform length the exercise states, or the frames do not line up.",
        "The new phase has modulus 1 in every bin: the rebuilt STFT divided by its own magnitude (torch.polar "
        "or x / x.abs()). Return the rebuilt STFT itself as the second output.",
    ),
}

NB01 = {
    "my_fixed_shapes": (
        "Follow one axis through one convolution: kernel 4, stride 2 and padding 1 give "
        "out = (n + 2 - 4) / 2 + 1. Try it on 64, then on 48.",
        "There is one convolution per width, so each axis is halved once per width; the channel count after the "
        "last convolution is the last width.",
        "The Linear sees everything the last convolution outputs, flattened: its input size is the product of the "
        "three numbers of the shape. Return that product first and the shape second, as whole numbers.",
    ),
}

NB02 = {
    "my_space_to_channel": (
        "Two steps. First move every sf x st patch into channels, with no averaging: check that this gives "
        "(B, C sf st, F / sf, T / st). Then average down to `channels`.",
        "In einops the first step splits F into (f sf) and T into (t st) and puts sf and st after c in the "
        "channel axis, in the order the exercise gives. The checker's 'another order' line points at this step.",
        "For the average, read the new channel axis as (channels, group), channels outermost, so that each "
        "output channel averages neighbouring channels; then take the mean over the group axis.",
    ),
    "my_vq": (
        "Flatten h to one C-vector per position, in (b, f, t) order, and measure it against every code "
        "(torch.cdist gives all the distances at once).",
        "The nearest code is an argmin over the codebook; index the codebook with it and put the result back "
        "in the (B, C, F, T) layout.",
        "Straight-through: the forward value must be the code, and the backward pass must see the identity "
        "in h. Write z as h plus a correction that carries no gradient.",
    ),
}

NB03 = {
    "my_discriminator_hinge_loss": (
        "Two terms, one for the real patches and one for the fakes; each is a mean over every logit of the map, "
        "batch included.",
        "A hinge is relu(margin - score): zero once a patch is past its margin. Real patches should score above +1 "
        "and fakes below -1: write each term so that it is zero there.",
        "Check a hand case: real logits all 3 and fake logits all -3 must give 0; real and fake logits all 0 must "
        "give 2.",
    ),
    "my_generator_hinge_loss": (
        "The decoder wants the critic to score its fakes high. What does it minimise, then?",
        "No margin and no relu on this side: the mean over every patch logit, with a sign.",
    ),
    "my_feature_matching_loss": (
        "Pair the two lists layer by layer (zip); for each layer, the mean absolute difference between the fake "
        "features and the real ones.",
        "Then average over the layers (not their sum). The real features are a target: cut them from the graph "
        "so that no gradient flows into them.",
    ),
    "beat the recipe at the same budget": (
        "Print cfg: which terms make the training loss, and with which weights? The scoreboard measures a mel L1; "
        "which term of the loss is closest to that, and which pull elsewhere?",
        "Notebook 02, section 5, trained this model at this budget with and without one of those terms and watched "
        "how fast the L1 fell. What did it find about the first few dozen steps?",
        "Change one thing at a time, keeping the seed and batches: a loss weight first, then the learning rate a "
        "little up or down. Keep what the scoreboard rewards, then ask whether it would still win at 6,000 steps.",
    ),
}
NB04 = {
    "my_normalize_latent": (
        "model.latent_mean and model.latent_std hold one number per channel, shape (C,); z is (B, C, F', T').",
        "To apply a (C,) vector to every channel, give it two trailing axes of size 1 so that it broadcasts over "
        "F' and T' (index with None, or reshape to (C, 1, 1)); then subtract, then divide.",
    ),
    "my_denormalize_latent": (
        "Undo the two steps of the normalisation, in the reverse order.",
        "Scale by the per-channel std first, then shift by the mean, both broadcast over F' and T' as before.",
    ),
    "my_slerp": (
        "Flatten both latents to single vectors first: the angle w is the arccos of their dot product over the "
        "product of their norms.",
        "Clamp that cosine to [-1, 1] before the arccos: round-off can push it just outside, and arccos gives NaN.",
        "The two weights sin((1 - t) w) / sin(w) and sin(t w) / sin(w) multiply the original latents, not the "
        "flattened ones, so the result has z0's shape.",
    ),
}

NB05 = {
    "my_stft_distances": (
        "Flatten both waveforms to (N, samples), take torch.stft with a Hann window of n_fft and return_complex=True, "
        "and keep its absolute value: two magnitude tensors of one shape.",
        "Spectral convergence is one number for the whole batch: the Frobenius norm of the difference over the "
        "norm of the reference (plus the small constant the exercise gives); torch.linalg.norm of a tensor is that.",
        "The log distance floors both magnitudes at 1e-5 before the log, then averages the absolute difference over "
        "every bin; return the two as tensors, not floats.",
    ),
    "my_mr_stft_distance": (
        "Crop both signals to the shorter length first, on the last axis.",
        "For each (n_fft, hop) in audio.STFT_RESOLUTIONS, add the two numbers my_stft_distances gives; then divide "
        "the total by the number of resolutions.",
    ),
    "phase-two STOI": (
        "compare_pipelines takes a model, the vocoder, the front end, {set name: clips} and the Griffin-Lim "
        "iterations, and returns {set name: {pipeline: {measure: value}}}, as the table of section 2.",
        "Load SHIPPED_DCAE_PHASE2 with load_autoencoder, run it on the speech set alone, and subtract the shipped "
        "DCAE's STOI in table for the same pipeline.",
    ),
    "claim-2 margins": (
        "Claim 2's cell computes the two tests from f1 and channels with MARGIN; put the same lines in a function "
        "of the margin that returns the verdict.",
        "Run the function over a list of margins and keep the pairs of neighbouring margins whose verdicts differ.",
    ),
}

NB06 = {
    "my_linear_attention": (
        "ReLU both q and k first. The sum over keys of phi(k_j)^T v_j is one matrix product over the key axis: "
        "a (d, e) matrix per batch and head.",
        "The denominator's sum over keys is a (d,) vector per head; each query's denominator is its features' dot "
        "product with it, one number per query.",
        "Numerator (B, H, N, e) over denominator (B, H, N, 1): keep a trailing axis of size 1 so the division "
        "broadcasts over e.",
    ),
    "my_causal_linear_attention": (
        "Start S at zeros (B, H, d, e) and z at zeros (B, H, d), and loop over the tokens in order.",
        "At token i, add phi(k_i)^T v_i to S (an outer product: unsqueeze the two vectors) and phi(k_i) to z "
        "before you read them for query i: token i sees itself.",
        "Output i is phi(q_i) S divided by phi(q_i) . z; collect the outputs in a list and stack them on the token "
        "axis. cumsum over the outer products gives every S_i at once, if you prefer.",
    ),
}

NB07 = {
    "my_euler_step": (
        "The step's length is h = t_next - t, and velocity(x, t) is the slope dx/dt where you stand.",
        "Euler keeps that one slope for the whole step: how far does x move in a time h at that slope?",
    ),
    "my_heun_step": (
        "Two velocity calls: one where you stand, at (x, t), and one at the end of the step.",
        "The second call is made at Euler's guess of the end point, at time t_next; my_euler_step can make the "
        "guess for you.",
        "Move from x, not from the guess, for a time h with the mean of the two slopes.",
    ),
}

NB08 = {
    "my_guidance": (
        "At scale 0 the result must be v_uncond and at scale 1 v_cond: a straight line through both, as a "
        "function of the scale.",
        "Start from the unconditional velocity and add the scale times the difference the prompt makes; the "
        "tensors broadcast, no loop is needed.",
    ),
    "make generation obey the mode word": (
        "The two evaluations of a step need not be the prompt and the empty prompt. What does v(prompt) - "
        "v(empty) point towards, and how much of that is the mood word?",
        "Make the two prompts differ in the mood word only: the same instrument, the other mood. Their difference "
        "is what the mood word alone adds.",
        "That difference is small: it needs a much larger scale than 3. Sweep the scale (from 5 to 50, say) and "
        "watch the instrument accuracy as well as the mode's interval.",
    ),
}

NB09 = {
    "my_crossfade_weights": (
        "Start from torch.ones(length) and overwrite the two ends; first and last only decide whether an end is "
        "overwritten.",
        "The rise is the line from 0 at the start of the fade to 1 at its end, read at the centre of each frame: "
        "frame k's centre is k + 0.5 frames into the fade.",
        "The fall is the rise reversed (flip). Check yours: rise[k] + rise[fade - 1 - k] must be 1 for every k.",
    ),
}

NB10 = {
    "my_piano_roll": (
        "Start from a (PITCHES + 1, frames) tensor of zeros. Row m - LOWEST belongs to MIDI note m, and the last "
        "row (GIVEN) is the given row: here the melody is given in every frame.",
        "Frame k covers the seconds from k / frame_rate to (k + 1) / frame_rate, and a note the seconds from its "
        "start to its start plus its length. What a note puts in a frame is the length of the overlap of the two "
        "spans (never below zero), as a share of the frame's length.",
        "Loop over the notes (and over the frames, or all frames at once with tensors of the frame edges); divide "
        "the overlap by the frame's length, that is multiply by frame_rate, cap it at 1, and where a pitch's row "
        "already holds a value keep the larger of the two.",
    ),
    "which condition wins the mode": (
        "The mood word that disagrees with a melody is 'sad' for a major-key melody and 'happy' for a minor-key "
        "one; each case of melody_cases gives its key, its mode and its instrument.",
        "Judge each generated clip with chroma.estimate_key on its chromagram, passing key= the case's key, and "
        "count a hit where the mode it returns is the case's mode. Do the same with each case's reference.",
        "mean_interval of the hits gives the mean and the 95% interval: the melody wins where the whole interval "
        "lies above 0.5, the word where it lies below.",
    ),
    "free where no melody is given": (
        "The melody's guidance term, 2 (v_melody - v_prompt), acts on every frame alike. Look at what it adds in "
        "the frames where the roll's given row is 0: the melody cannot be there, yet the term is not zero.",
        "The given row says frame by frame where the melody is given: a scale per frame, shaped (N, 1, 1, frames) "
        "so that it broadcasts over the latent (N, C, F, frames), can differ between the two halves.",
        "Keep the shipped scale where the melody is given. Elsewhere try 0 first, then negative scales (pushing "
        "away from what the melody adds there), and watch the given half and the instrument as well.",
    ),
}
NB11 = {
    "my_info_nce": (
        "First the N x N matrix of logits: entry (i, j) is the scale times the dot product of clip i's embedding "
        "with phrasing j's (the embeddings are unit vectors, so the dot product is their cosine).",
        "Each row is a classification over the N phrasings whose right class is the row's own index, so the "
        "targets are 0, 1, ..., N - 1; torch.nn.functional.cross_entropy takes the logits and those targets.",
        "Do the same for the columns (the text side) by transposing the logits, with the same targets, and "
        "return the mean of the two cross-entropies.",
    ),
    "search with a word miniCLAP never met": (
        "clap.search_folder(SHIPPED_CLAP, prompt, folder, top=6) returns (score, path) pairs, best first; "
        "label_of[path.name] names each clip.",
        "Keep each prompt's list of clip names in ranked order, and compare the lists of two prompts with ==.",
    ),
}
NB12 = {
    "my_retake_noise": (
        "Section 5's equation is the whole answer: two terms, each a noise times a number that depends on the "
        "angle alone.",
        "The angle is a Python float, so math gives the two numbers; a float times a tensor keeps the tensor's "
        "shape, whatever it is.",
        "Check the ends: angle 0 must give n1 back exactly, and pi / 2 must give (nearly) n2.",
    ),
    "repaint at margin 0 without a seam": (
        "The seam is the jump between the last kept frame and the first new one. The shipped repaint decides each "
        "frame's fate once: held on the original's path at every step, or free from t = 0. Could that choice "
        "depend on t?",
        "integrate calls its after_step with the time t just reached: a hold mask that depends on t (a frame held "
        "on the original's path until its own release time, free after it) keeps a span frame near the original "
        "for as long as you like, with nothing blended at the end.",
        "Give the few span frames nearest each border release times that fall with their distance from it (the "
        "border frame last, the inner frames at once). Then look at time_grid(steps, shift): the last step is "
        "long at shift 3, and a frame released late is written by that one step alone.",
    ),
}
NB13 = {
    "my_excess_kurtosis": (
        "Each channel is one sample of numbers: bring the channel axis to the front and flatten the other three, "
        "so that channel c is one row of B * F * T numbers.",
        "Subtract each row's mean. The variance and the fourth moment are then plain means of the second and "
        "fourth powers of those deviations (population moments: divide by the count, not the count less one).",
        "Divide the fourth moment by the square of the variance and subtract the Gaussian's value, 3. Work in "
        "float64: fourth powers of large deviations lose digits in float32.",
    ),
    "skips from another instrument": (
        "skip_ae.encode_with_skips(x) gives a latent and a list of skips; skip_ae.decode(latent, shape, skips) "
        "takes any list of skips of the right shapes, so both mels must have the same number of frames.",
        "synth_clip(seed, seconds, sample_rate, instrument=...) makes a clip of the instrument you choose (held-out "
        "seeds start at HELDOUT_SEED_BASE); predict(judge, mel) returns what the classifier hears, as indices "
        "into INSTRUMENTS.",
    ),
    "hum against noise": (
        "restoration.add_hum(wav, sample_rate, level_db, g) and restoration.add_noise(wav, snr_db, g) each add "
        "one damage; compare the clean clip's log-mel with the damaged one's, and with the restorer's output.",
        "Feed the restorer the clean clip as well: how far its output is from the clip is what the restorer costs "
        "any input. Compare each damage's mel L1 with that figure.",
    ),
}

NB14 = {
    "my_low_rank_update": (
        "The result has W's shape (out, in). Which product of A (r, in) and B (out, r) has that shape?",
        "B @ A is the unscaled change; the scale is alpha over the rank, and the rank is one of A's dimensions.",
        "Read r from A's first dimension, then scale the product. Check yours: with alpha equal to r the scale is 1, "
        "and with B all zeros the change is all zeros.",
    ),
    "my_lora_parameters": (
        "Only the adapter's two matrices train: the layer's own weight and bias are frozen. What are their shapes?",
        "Section 2 gives them: A is (r, in) and B is (out, r). How many entries does each hold?",
        "Add the two counts and return an int; no term of the frozen weight's in x out belongs in it. Check yours on "
        "section 3: over the 16 wrapped layers, plus the word's row of 128, it gives 22,656.",
    ),
    "a smaller adapter": (
        "Your my_lora_parameters from exercise 2 gives each layer's count: add it over the layers you wrap in the 4 "
        "blocks, plus the new word's row (128), and compare with a third of 22,656 (7,552).",
        "Lower the rank, or name fewer layers in teach(..., layers=...): the prompt's tokens reach the network only "
        "through cross-attention, where cross.kv makes its keys and values and cross.out mixes what they return.",
        "Count first: list the (rank, layers) choices at or under 7,552 (section 2 printed each layer's shape), then "
        "train one or two of them as section 4 does and judge each with word_heard.",
    ),
}

HINTS: dict[str, tuple[str, ...]] = {
    **NB00,
    **NB01,
    **NB02,
    **NB03,
    **NB04,
    **NB05,
    **NB06,
    **NB07,
    **NB08,
    **NB09,
    **NB10,
    **NB11,
    **NB12,
    **NB13,
    **NB14,
}
