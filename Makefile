# `make demo` and `make test` are all a newcomer needs: each builds .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench samples clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/evkit info sample_images/mbr_fat32_ntfs.E01
	$(BIN)/evkit hash sample_images/mbr_fat32_ntfs.E01 --verify
	$(BIN)/evkit ls sample_images/mbr_fat32_ntfs.E01 -r --deleted

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python bench/run.py

samples:
	bash sample_images/generate.sh

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
