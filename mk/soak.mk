# mk/soak.mk: `make soak` (one hour of audio through the live pipeline at
# 10× real time, about 6 minutes) and `make soak SOAK_SECONDS=300` (CI).
# See scripts/soak.sh for what is measured and the pass criteria.
SOAK_SECONDS ?= 3600
SOAK_SPEED   ?= 10
.PHONY: soak
soak: $(BUILD)/livecap
	$(Q)SOAK_SECONDS=$(SOAK_SECONDS) SOAK_SPEED=$(SOAK_SPEED) scripts/soak.sh
