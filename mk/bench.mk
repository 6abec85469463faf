# mk/bench.mk: benchmarks (programs that print figures, not tests).
#   make bench          livecap bench on random tiny/base/small models (SPEC §5)
#   make whispercpp     builds whisper.cpp's whisper-bench (scripts/build-whispercpp.sh)
#   make vs-whispercpp  both on the same model files, interleaved in one run
#                       (scripts/vs-whispercpp.sh; MODELS="a.bin b.bin" to choose)
.PHONY: bench whispercpp vs-whispercpp
bench: $(BUILD)/livecap
	$(BUILD)/livecap bench

whispercpp:
	scripts/build-whispercpp.sh $(BUILD)/whisper.cpp

vs-whispercpp: $(BUILD)/livecap whispercpp
	WHISPER_BENCH=$(BUILD)/whisper.cpp/bin/whisper-bench LIVECAP=$(BUILD)/livecap scripts/vs-whispercpp.sh $(MODELS)
