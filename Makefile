# Two commands from a fresh clone:  `make tour`  and  `make test`.
# Each one bootstraps uv (from PyPI) and the locked virtualenv first.
SHELL := /bin/bash
# uv from PATH if present; otherwise it is installed from PyPI and run as `python3 -m uv`.
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := python3 -m uv
endif
export UV_LINK_MODE ?= copy

.PHONY: tour test lint docs notebooks bootstrap browser clean

.venv/.synced: uv.lock pyproject.toml
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet uv \
		|| python3 -m pip install --quiet --user uv
	$(UV) sync --frozen --all-groups
	@touch $@

bootstrap: .venv/.synced

tour: .venv/.synced  ## run every recipe end to end against a throwaway Redis
	$(UV) run cookbook tour

test: .venv/.synced  ## the whole suite: unit, recipes against real Redis, docs, notebooks
	$(UV) run pytest --nbmake

lint: .venv/.synced
	$(UV) run ruff check .
	$(UV) run mypy

docs: .venv/.synced
	$(UV) run mkdocs build --strict

clean:
	rm -rf .venv site .pytest_cache .mypy_cache .ruff_cache
