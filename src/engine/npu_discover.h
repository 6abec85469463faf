/* npu_discover.h: finds an AMD XDNA NPU and its kernel artifacts, without
 * opening it. An NPU is a /dev/accel/accelN whose sysfs driver link
 * (/sys/class/accel/accelN/device/driver) names "amdxdna". The mlir-aie
 * target comes from the PCI device id (sysfs .../device/device), as the
 * amdxdna driver's PCI table keys its device info (amd/xdna-driver,
 * src/driver/amdxdna/amdxdna_pci_drv.c):
 *   0x1502 Phoenix / Hawk Point (driver "npu1")           -> mlir-aie npu1 (AIE2)
 *   0x17f0 Strix / Strix Halo / Krackan (driver npu4..6)  -> mlir-aie npu2 (AIE2P)
 * Artifacts: $LIVECAP_NPU_ARTIFACTS, else <exe dir>/../kernels/build/<target>;
 * "ok" means the directory holds at least one gemm_*.xclbin.
 *
 * Nothing here prints unless asked (devices_print_accelerator).
 * Thread-safety: reentrant; reads sysfs/procfs only.
 */
#ifndef LC_NPU_DISCOVER_H
#define LC_NPU_DISCOVER_H

#include <stdint.h>
#include <stdio.h>

typedef struct npu_info {
    char node[64];          /* /dev/accel/accel0 */
    char target[8];         /* "npu1", "npu2" */
    unsigned pci_device;    /* 0x1502, 0x17f0 */
    char artifacts[512];    /* directory searched for the xclbins */
    int artifacts_ok;
} npu_info;

/* 1 when an amdxdna device with a known target is found (info filled), else
 * 0 with a one-line reason in why ("no /dev/accel device", …). */
int npu_discover(npu_info *info, char *why, size_t whylen);
/* Same, with the sysfs class dir and /dev dir given (tests use a fake tree). */
int npu_discover_at(const char *sys_accel, const char *dev_accel, npu_info *info,
                    char *why, size_t whylen);
/* "npu1"/"npu2" for an amdxdna PCI device id, NULL when unknown. */
const char *npu_target_for_pci(unsigned device);
/* Fills dir with the artifact directory for target; returns 1 if it holds a
 * gemm_*.xclbin, else 0. */
int npu_artifacts_find(const char *target, char *dir, size_t len);
/* Directory of the running executable (readlink /proc/self/exe). 0 or -1. */
int npu_exe_dir(char *buf, size_t len);

/* Parses a DRM fdinfo text: sums every "drm-engine-npu-amdxdna: N ns" line
 * (the amdxdna driver's busy time). 1 if found, else 0. */
int npu_fdinfo_parse(const char *text, uint64_t *ns);
/* npu_fdinfo_parse over /proc/self/fdinfo/<fd>*; 1 if any fd reported. */
int npu_fdinfo_busy_ns(uint64_t *ns);

/* `livecap devices`: one line "accelerator: …" (overrides the weak fallback
 * in cli/cmd_devices.c). */
void devices_print_accelerator(FILE *out);

#endif
