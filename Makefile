# `make demo` and `make test` are all a newcomer needs: each builds .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench samples clean

$(STAMP): pyproject.toml setup.py src/evkit/sources/filesystems/_tskwalk.c src/evkit/case/_magicbatch.c
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,cluster]'
	touch $(STAMP)

DEMO := demo-case

demo: $(STAMP)
	$(BIN)/evkit info sample_images/mbr_fat32_ntfs.E01
	$(BIN)/evkit hash sample_images/mbr_fat32_ntfs.E01 --verify
	$(BIN)/evkit ls sample_images/mbr_fat32_ntfs.E01 -r --deleted
	rm -rf $(DEMO)
	$(BIN)/evkit case init $(DEMO) --case-number EVK-DEMO --examiner "Demo Examiner" --agency "evkit"
	$(BIN)/evkit case add $(DEMO) sample_images/mbr_fat32_ntfs.E01 --evidence-number E1 --description "Sample MBR disk"
	$(BIN)/evkit case add $(DEMO) sample_images/gpt_ext4.raw --evidence-number E2 --description "Sample GPT disk"
	$(BIN)/evkit case add $(DEMO) sample_images/phone/android_ffs.tar --evidence-number E3 --description "Sample Android extraction"
	$(BIN)/evkit --password-file sample_images/phone/password.txt case add $(DEMO) sample_images/phone/ios_backup_encrypted --evidence-number E4 --description "Sample encrypted iTunes backup"
	$(BIN)/evkit --password-file sample_images/phone/password.txt extract $(DEMO) --deleted || test $$? -eq 4
	$(BIN)/evkit --password-file sample_images/phone/password.txt run $(DEMO) || test $$? -eq 4
	$(BIN)/evkit report $(DEMO) --format html,csv,xlsx,kml,geojson,timeline
	$(BIN)/evkit verify $(DEMO)
	@echo "demo case written to $(DEMO)/; open $(DEMO)/data/reports/html/index.html"

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python bench/run.py

samples:
	bash sample_images/generate.sh

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info $(DEMO)
