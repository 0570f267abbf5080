# One command each: `make demo`, `make test`, `make lab`.
# Each creates .venv and installs into it when needed; a second run installs nothing
# (the stamp file is newer than pyproject.toml and constraints.txt).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# `make gpu-wheels` downloads once; `make test` needs the wheels (tests/test_run_notebooks.py)
GPU_WHEELS_STAMP := gpu_wheels/.downloaded
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))

.PHONY: demo test lint lab lab-student notebooks nbval student student-run answers benchmarks venv clean-runs gpu-check gpu-train gpu-wheels

venv: $(STAMP)

# pyproject.toml says which versions work; constraints.txt pins the exact ones the committed outputs
# were made with, so every .venv holds the same versions.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -c constraints.txt -e ".[dev]"
	@touch $(STAMP)

# Synthesize labelled clips, log-mel them, invert with Griffin-Lim; outputs under runs/demo/.
demo: $(STAMP)
	$(VENV)/bin/minidcae demo --out runs/demo

# Lint, then unit tests and strict nbval over notebooks/ (pytest settings live in pyproject.toml).
# The notebooks' committed outputs come from the ci profile on one thread, so tests run so too
# (one thread also keeps a busy machine from slowing torch down many times over).
CI_ENV := MINIDCAE_PROFILE=ci TQDM_DISABLE=1 OMP_NUM_THREADS=1

test: lint $(GPU_WHEELS_STAMP)
	$(CI_ENV) $(PY) -m pytest $(PYTEST_ARGS)

# ruff (pinned in constraints.txt, configured in pyproject.toml): lint, import order, format; then
# import-linter: the rooms of minidcae/ import one way down (the contracts in pyproject.toml, CONTRIBUTING.md).
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

lab: $(STAMP)
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks

# What a student opens: the copies without solutions.
lab-student: $(STAMP)
	$(VENV)/bin/jupyter lab --notebook-dir=student

# Strict nbval over the notebooks only, with the CPU's vector units limited as on a student's
# machine: `make nbval CPU=avx2` (most laptops), `make nbval CPU=default` (no vector units),
# `make nbval` (this machine as it is). CI runs all three; run one before committing a notebook.
# NB=notebooks/02_deep_compression.ipynb checks one notebook.
CPU ?= native
CPU_ENV_native  :=
CPU_ENV_avx2    := ATEN_CPU_CAPABILITY=avx2 MKL_ENABLE_INSTRUCTIONS=AVX2 ONEDNN_MAX_CPU_ISA=AVX2
CPU_ENV_default := ATEN_CPU_CAPABILITY=default MKL_ENABLE_INSTRUCTIONS=SSE4_2 ONEDNN_MAX_CPU_ISA=SSE41

nbval: $(STAMP)
	@case "$(CPU)" in native|avx2|default) ;; *) echo "make nbval: CPU=$(CPU) is not a setting; use native, avx2 or default" >&2; exit 2;; esac
	@echo "nbval with CPU=$(CPU): $(CPU_ENV_$(CPU))"
	$(CI_ENV) $(CPU_ENV_$(CPU)) $(PY) -m pytest $(or $(NB),notebooks) $(PYTEST_ARGS)

# Re-execute every notebook in place, top to bottom, under the ci profile (what nbval checks).
notebooks: $(STAMP)
	$(CI_ENV) $(PY) tools/execute_notebooks.py $(NOTEBOOKS)

# Student copies of the notebooks (solutions replaced by a placeholder) into student/.
student: $(STAMP)
	$(PY) tools/make_student.py

# The self-study answer key (every solution, answer and instructor's note, one markdown file a
# notebook) into answers/, which git ignores and student/ never holds.
answers: $(STAMP)
	$(PY) tools/make_student.py --answers

# Execute every student copy top to bottom (into runs/student/, not in place): an exercise left
# undone prints "not implemented yet" and the notebook goes on.
student-run: student
	$(CI_ENV) $(PY) tools/execute_notebooks.py --out runs/student $(patsubst notebooks/%,student/%,$(NOTEBOOKS))

# Every benchmark in benchmarks/, then the summary table in README.md (one thread, as measured).
benchmarks: $(STAMP)
	OMP_NUM_THREADS=1 $(PY) benchmarks/run_all.py

# The gpu profile on one CUDA GPU in about ten minutes (tools/gpu_check.py): training throughput in fp32 and
# bf16, generation speed, notebooks 02, 03 and 07 with capped steps; JSON and README / INSTRUCTORS rows.
# Runs with the machine's own python3 from the source tree, no venv, nothing installed from an index.
# On a CPU: `make gpu-check GPU_CHECK_ARGS=--dry-run`.
gpu-check:
	PYTHONPATH=. $(PYTHON) tools/gpu_check.py $(GPU_CHECK_ARGS)

# The course's models at ACE-Step's latent geometry (f8c8 on 128 mels), trained on one CUDA GPU in about six
# minutes (tools/gpu_train.py): DCAE, vocoder, latent transformer, with cards naming the GPU, under runs/gpu_train/.
# Then, on any machine, `python tools/gpu_train.py --evaluate runs/gpu_train` adds the held-out figures to the
# cards. On a CPU: `make gpu-train GPU_TRAIN_ARGS=--dry-run`.
gpu-train:
	PYTHONPATH=. $(PYTHON) tools/gpu_train.py $(GPU_TRAIN_ARGS)

# The wheels a GPU machine's own Python 3.12 lacks, downloaded once into gpu_wheels/ (ignored by git; carry it
# along): tools/run_notebooks.py puts the ones of Python files alone on sys.path as zips and installs the others
# (compiled parts or data files) with pip --no-index, so notebooks run there without Jupyter. IPython with what
# InteractiveShell.run_cell needs for magics, `!` commands, display and tracebacks; not its terminal prompt
# (prompt_toolkit, wcwidth), tab completion (jedi, parso, 5 MB) or psutil. ipywidgets and comm for notebook
# 04's slider, not its browser side (widgetsnbextension, jupyterlab_widgets: 3 MB that nothing there shows).
# Not pygments, einops or tqdm: the GPU machines' image has them (device KINDS.md), and the source tree and
# these wheels must travel in 64 MiB together. cffi is compiled per Python, so it comes for 3.11 too: `make
# test` runs the notebook runner with this venv's Python as a GPU machine would (tests/test_run_notebooks.py).
GPU_WHEELS := ipython==9.18.1 traitlets==5.16.1 stack_data==0.6.3 executing==2.3.0 asttokens==3.0.2 \
	pure_eval==0.2.4 pexpect==4.9.0 ptyprocess==0.7.0 decorator==5.3.1 matplotlib-inline==0.2.2 \
	ipython-pygments-lexers==1.1.1 mido==1.3.3 pystoi==0.4.1 pesto-pitch==2.0.1 \
	soundfile==0.14.0 cffi==2.0.0 pycparser==3.0 ipywidgets==8.1.9 comm==0.2.3
gpu-wheels: $(GPU_WHEELS_STAMP)

$(GPU_WHEELS_STAMP): Makefile | $(STAMP)
	rm -rf gpu_wheels
	for v in 3.12 3.11; do \
		$(PY) -m pip download --disable-pip-version-check -q --no-deps --only-binary=:all: --python-version $$v \
			--implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
			--platform manylinux2014_x86_64 --platform any -d gpu_wheels $(GPU_WHEELS) || exit 1; \
	done
	@touch $@
	@du -sh gpu_wheels && ls gpu_wheels

clean-runs:
	rm -rf runs
