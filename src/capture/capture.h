/* capture.h: audio sources that feed the ring buffer.
 *
 * Two implementations behind one handle:
 *  - a device (PortAudio): the stream callback only calls ring_write (no
 *    lock, no allocation, no I/O);
 *  - a file (libsndfile, `live --input`): read 10 ms at a time by a thread
 *    that hands each block to the ring paced at real time x speed
 *    (absolute CLOCK_MONOTONIC deadlines, so no drift), each block written
 *    when its last frame "would have been recorded", like a device.
 * Both write the source's NATIVE rate and channel count (see lc_capture_info)
 * as interleaved float; the consumer mixes down and resamples to 16 kHz.
 *
 * Ownership: the caller owns the ring and must keep it alive until
 * capture_close returns; the capture never reads from it. One consumer
 * thread reads the ring as usual (ring.h).
 *
 * Threads: open/start/stop/pause/reopen/close are called by one owner
 * thread. capture_eof, capture_overruns and capture_status may be called
 * from any thread.
 *
 * Stderr: PortAudio, ALSA and JACK print chatter while initialising and
 * enumerating. Every PortAudio call made here that can chatter runs with fd
 * 2 pointed at /dev/null (and ALSA's error handler is a no-op), so a TUI is
 * never corrupted; anything another thread writes to stderr in that window
 * is lost too. LIVECAP_AUDIO_DEBUG=1 keeps the chatter, for diagnosis.
 *
 * Errors: functions taking an lc_err return -1/NULL with one line naming the
 * device or file, e.g. `no capture device matches "xyz" (see livecap devices)`.
 */
#ifndef LC_CAPTURE_H
#define LC_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "capture/ring.h"
#include "util/err.h"

typedef struct lc_capture lc_capture;

typedef struct lc_capture_info {
    char device_name[256]; /* PortAudio device name, or the file path */
    double sample_rate;    /* native rate written to the ring */
    int channels;          /* interleaved channels written to the ring (1..2 for devices) */
    int is_file;
} lc_capture_info;

/* device: "" = the default input; all digits = index from `livecap devices`;
 * otherwise a case-insensitive substring of the device name (an exact name
 * wins over substrings). Opens a float32 input stream at the device's
 * default rate (falling back to 16000, 44100, 48000) with at most 2 channels.
 * The stream is not running until capture_start. */
lc_capture *capture_open_device(const char *device, lc_ring *ring, lc_capture_info *info, lc_err *e);

/* Opens the file (any format libsndfile reads) at its native rate and
 * channels and reads its first block; the rest streams from disk, so memory
 * does not grow with the file's length. speed > 0 is the pace in multiples
 * of real time. Unreadable or empty files fail with a message naming the
 * file. */
lc_capture *capture_open_file(const char *path, double speed, lc_ring *ring, lc_capture_info *info, lc_err *e);

int capture_start(lc_capture *c, lc_err *e);   /* 0 / -1 */
int capture_stop(lc_capture *c);               /* idempotent; 0 */

/* Device: capture keeps running but the samples are discarded while paused.
 * File: the file position stops, and resumes where it was (paced from the
 * moment of resuming). Returns 0. */
int capture_pause(lc_capture *c, int paused);

/* 1 when the file has been written to the ring in full, or the device's
 * stream has ended without capture_stop (device gone). */
int capture_eof(const lc_capture *c);

/* Frames dropped because the ring was full (ring_overruns / channels). */
uint64_t capture_overruns(const lc_capture *c);

/* 0 = fine. 1 = trouble, with a one-line description in msg (e.g. the device
 * stream stopped, or no audio from it for 2 s): the owner may capture_reopen. */
int capture_status(const lc_capture *c, char *msg, size_t len);

/* Device only: closes the stream, re-initialises PortAudio (a fresh device
 * list), finds the device by the original name/index and opens it again with
 * the SAME rate and channel count (the ring's consumer relies on them),
 * restarting it if it was running. -1 with a message if it is still gone. */
int capture_reopen(lc_capture *c, lc_err *e);

void capture_close(lc_capture *c);             /* stops first; NULL is fine */

/* Device listing for `livecap devices`. */
typedef struct lc_device_desc {
    int index;             /* what --device INDEX takes */
    char name[256];
    char host_api[32];     /* "ALSA", "JACK Audio Connection Kit", … */
    int channels;          /* max input channels */
    double default_rate;
    int is_default;        /* the default input device */
} lc_device_desc;

/* Fills up to max input-capable devices; returns how many exist (may exceed
 * max), or -1 with e set if PortAudio cannot initialise. */
int capture_list_devices(lc_device_desc *out, int max, lc_err *e);

#endif
