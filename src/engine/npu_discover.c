/* npu_discover.c: sysfs/procfs probing for the amdxdna NPU (see header). */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/npu_discover.h"

const char *npu_target_for_pci(unsigned device)
{
    switch (device) {
    case 0x1502: return "npu1";
    case 0x17f0: return "npu2";
    default: return NULL;
    }
}

/* bounded copy that GCC's -Wformat-truncation does not flag */
static void scopy(char *dst, size_t len, const char *src)
{
    size_t n = strlen(src);
    if (n >= len) n = len - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static int read_small(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, len - 1, f);
    fclose(f);
    buf[n] = '\0';
    return 0;
}

int npu_exe_dir(char *buf, size_t len)
{
    ssize_t n = readlink("/proc/self/exe", buf, len - 1);
    if (n <= 0) return -1;
    buf[n] = '\0';
    char *slash = strrchr(buf, '/');
    if (!slash) return -1;
    *slash = '\0';
    return 0;
}

int npu_artifacts_find(const char *target, char *dir, size_t len)
{
    const char *env = getenv("LIVECAP_NPU_ARTIFACTS");
    char exe[PATH_MAX];
    if (env && *env) scopy(dir, len, env);
    else if (npu_exe_dir(exe, sizeof exe) == 0)
        snprintf(dir, len, "%s/../kernels/build/%s", exe, target);
    else snprintf(dir, len, "kernels/build/%s", target);
    DIR *d = opendir(dir);
    if (!d) return 0;
    int ok = 0;
    for (struct dirent *de; !ok && (de = readdir(d));) {
        size_t n = strlen(de->d_name);
        ok = strncmp(de->d_name, "gemm_", 5) == 0 && n > 7 && strcmp(de->d_name + n - 7, ".xclbin") == 0;
    }
    closedir(d);
    return ok;
}

int npu_discover_at(const char *sys_accel, const char *dev_accel, npu_info *info,
                    char *why, size_t whylen)
{
    char tmp[256];
    if (!why) { why = tmp; whylen = sizeof tmp; }
    memset(info, 0, sizeof *info);
    DIR *d = opendir(sys_accel);
    if (!d) { snprintf(why, whylen, "no %s device", dev_accel); return 0; }
    int seen = 0, found = 0;
    char other[64] = "";
    struct dirent *de;
    while (!found && (de = readdir(d))) {
        if (strncmp(de->d_name, "accel", 5) != 0) continue;
        seen++;
        char path[PATH_MAX], link[PATH_MAX], id[32];
        snprintf(path, sizeof path, "%s/%s/device/driver", sys_accel, de->d_name);
        ssize_t n = readlink(path, link, sizeof link - 1);
        if (n <= 0) continue;
        link[n] = '\0';
        const char *drv = strrchr(link, '/') ? strrchr(link, '/') + 1 : link;
        if (strcmp(drv, "amdxdna") != 0) { scopy(other, sizeof other, drv); continue; }
        snprintf(path, sizeof path, "%s/%s/device/device", sys_accel, de->d_name);
        if (read_small(path, id, sizeof id)) continue;
        info->pci_device = (unsigned)strtoul(id, NULL, 16);
        snprintf(info->node, sizeof info->node, "%.40s/%.20s", dev_accel, de->d_name);
        const char *t = npu_target_for_pci(info->pci_device);
        if (!t) {
            snprintf(why, whylen, "%s: amdxdna device 0x%04x is not a known target (npu1 0x1502, npu2 0x17f0)",
                     info->node, info->pci_device);
            closedir(d);
            return 0;
        }
        scopy(info->target, sizeof info->target, t);
        found = 1;
    }
    closedir(d);
    if (!found) {
        if (!seen) snprintf(why, whylen, "no %s device", dev_accel);
        else snprintf(why, whylen, "no amdxdna device in %s%s%s", dev_accel,
                      *other ? " (found driver " : "", *other ? other : "");
        if (seen && *other) { size_t n = strlen(why); snprintf(why + n, whylen - n, ")"); }
        return 0;
    }
    info->artifacts_ok = npu_artifacts_find(info->target, info->artifacts, sizeof info->artifacts);
    return 1;
}

int npu_discover(npu_info *info, char *why, size_t whylen)
{
    return npu_discover_at("/sys/class/accel", "/dev/accel", info, why, whylen);
}

int npu_fdinfo_parse(const char *text, uint64_t *ns)
{
    static const char key[] = "drm-engine-npu-amdxdna:";
    int found = 0;
    uint64_t sum = 0;
    for (const char *p = text; (p = strstr(p, key)); p += sizeof key - 1) {
        if (p != text && p[-1] != '\n') continue;
        char *end;
        unsigned long long v = strtoull(p + sizeof key - 1, &end, 10);
        if (end == p + sizeof key - 1) continue;
        sum += v;
        found = 1;
    }
    if (found) *ns = sum;
    return found;
}

int npu_fdinfo_busy_ns(uint64_t *ns)
{
    DIR *d = opendir("/proc/self/fdinfo");
    if (!d) return 0;
    int found = 0;
    uint64_t sum = 0;
    char buf[4096], path[300];
    for (struct dirent *de; (de = readdir(d));) {
        if (de->d_name[0] < '0' || de->d_name[0] > '9') continue;
        snprintf(path, sizeof path, "/proc/self/fdinfo/%s", de->d_name);
        uint64_t v;
        if (read_small(path, buf, sizeof buf) == 0 && npu_fdinfo_parse(buf, &v)) {
            sum += v;
            found = 1;
        }
    }
    closedir(d);
    if (found) *ns = sum;
    return found;
}

void devices_print_accelerator(FILE *out)
{
    npu_info info;
    char why[256];
    if (!npu_discover(&info, why, sizeof why)) {
        fprintf(out, "accelerator: none (%s)\n", why);
        return;
    }
    char exe[PATH_MAX], shim[PATH_MAX + 16] = "";
    if (npu_exe_dir(exe, sizeof exe) == 0) snprintf(shim, sizeof shim, "%s/libcapnpu.so", exe);
    const char *env = getenv("LIVECAP_NPU_SHIM");
    int shim_ok = (*shim && access(shim, R_OK) == 0) || (env && *env && access(env, R_OK) == 0);
    fprintf(out, "accelerator: AMD XDNA %s at %s (pci 0x%04x; artifacts: %s%s; shim: %s)\n",
            info.target, info.node, info.pci_device,
            info.artifacts_ok ? info.artifacts : "missing, run make -C kernels",
            info.artifacts_ok ? "" : "",
            shim_ok ? "found" : "missing, run make NPU=1 XRT_ROOT=/opt/xilinx/xrt");
}
