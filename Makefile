# Entry points; each target prepares what it needs, so a fresh clone works.
.PHONY: setup test lint clean demo demo-clean bench

setup:
	scripts/setup-machine.sh

test: setup
	tests/run.sh

lint: setup
	ASGI_SCENARIOS= tests/run.sh

clean:
	rm -rf .tmp

demo:
	scripts/demo.sh

demo-clean:
	scripts/demo.sh clean

# Benchmarks (about 20 minutes): writes benchmarks/RESULTS.md and restart.png.
bench:
	scripts/setup-machine.sh debian12
	.venv/bin/python benchmarks/bench.py
	.venv/bin/python benchmarks/switch.py
