/* capture.c: PortAudio device and paced-file sources (contract in capture.h). */
#include "capture/capture.h"

#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <portaudio.h>
#include <pthread.h>
#include <sndfile.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* Under AddressSanitizer, ALSA dlcloses its plugin modules (pulse, jack, …)
 * after PortAudio probes them, and the state they keep in their globals
 * then looks leaked. quiet_begin/quiet_end bracket every PortAudio control
 * call, so they also tell LeakSanitizer to ignore what the sound libraries
 * allocate on this thread in between (our own allocations are outside). */
#if defined(__SANITIZE_ADDRESS__)
#define LC_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LC_LSAN 1
#endif
#endif
#ifdef LC_LSAN
#include <sanitizer/lsan_interface.h>
#define lsan_off() __lsan_disable()
#define lsan_on() __lsan_enable()
#else
#define lsan_off() ((void)0)
#define lsan_on() ((void)0)
#endif

/* File source block: 10 ms, a typical device period. */
#define FILE_BLOCK_S 0.010
/* A running device that delivers nothing for this long is reported. */
#define STALL_NS 2000000000LL

struct lc_capture {
    lc_ring *ring;
    lc_capture_info info;
    atomic_int paused;
    atomic_int eof;
    atomic_int started;

    /* device */
    PaStream *stream;
    int pa_inited;
    int dev_index;
    char spec[256];              /* what the user asked for, for reopen */
    atomic_int finished;         /* stream ended (finished callback) */
    atomic_int stop_requested;
    _Atomic int64_t last_cb_ns;  /* last callback, for stall detection */
    atomic_int stream_gen;       /* bumped when a stream is abandoned */
    void *stream_ud;             /* the current stream's stream_ud */
    int lost;                    /* a stream was abandoned: PortAudio may be wedged */
    int64_t start_ns;

    /* file: read a block at a time (an hour at 48 kHz stereo would be 1.4 GB
     * decoded whole) */
    SNDFILE *sf;
    float *blockbuf;             /* [block * channels] interleaved */
    size_t block, have, sent;    /* frames per block, frames in blockbuf, frames written */
    double speed;
    pthread_t thread;
    pthread_mutex_t mu;          /* guards stop/paused wakeups for the thread */
    pthread_cond_t cv;           /* CLOCK_MONOTONIC */
    int thread_stop;
};

/* ---------- keeping PortAudio/ALSA/JACK quiet ---------- */

static pthread_mutex_t quiet_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t alsa_once = PTHREAD_ONCE_INIT;

static void alsa_silent(const char *file, int line, const char *fn, int err, const char *fmt, ...)
{
    (void)file; (void)line; (void)fn; (void)err; (void)fmt;
}

/* libasound is not linked directly (PortAudio loads it); reach its error
 * hook through the already-loaded library, if there is one. */
static void alsa_quiet_once(void)
{
    void *h = dlopen("libasound.so.2", RTLD_NOW | RTLD_NOLOAD);
    if (!h)
        h = dlopen("libasound.so.2", RTLD_NOW);
    if (!h)
        return;
    typedef int (*set_handler_fn)(void (*)(const char *, int, const char *, int, const char *, ...));
    set_handler_fn set = (set_handler_fn)dlsym(h, "snd_lib_error_set_handler");
    if (set)
        set(alsa_silent);
    /* h stays open: the handler must outlive every PortAudio call. */
}

static int audio_debug(void)
{
    const char *d = getenv("LIVECAP_AUDIO_DEBUG");
    return d && *d && strcmp(d, "0") != 0;
}

/* Points fd 2 at /dev/null; returns the saved fd (or -1) for quiet_end. */
static int quiet_begin(void)
{
    pthread_mutex_lock(&quiet_mu);
    pthread_once(&alsa_once, alsa_quiet_once);
    lsan_off();
    if (audio_debug())
        return -1;
    fflush(stderr);
    int saved = dup(2);
    int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (saved >= 0 && null >= 0)
        dup2(null, 2);
    if (null >= 0)
        close(null);
    return saved;
}

static void quiet_end(int saved)
{
    if (saved >= 0) {
        fflush(stderr);
        dup2(saved, 2);
        close(saved);
    }
    lsan_on();
    pthread_mutex_unlock(&quiet_mu);
}

static PaError pa_init_quiet(void)
{
    /* Don't let PortAudio's JACK host API launch a jackd just to list it. */
    setenv("JACK_NO_START_SERVER", "1", 0);
    int q = quiet_begin();
    PaError err = Pa_Initialize();
    quiet_end(q);
    return err;
}

static void pa_term_quiet(void)
{
    int q = quiet_begin();
    Pa_Terminate();
    quiet_end(q);
}

/* ---------- device selection ---------- */

static int ci_contains(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return 1;
    return n == 0;
}

static int all_digits(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return 0;
    return 1;
}

/* Returns a PortAudio input device index for spec, or -1 with e set. */
static int device_find(const char *spec, lc_err *e)
{
    int n = Pa_GetDeviceCount();
    if (n < 0)
        return lc_fail(e, "audio: cannot list capture devices: %s", Pa_GetErrorText(n));
    if (!*spec) {
        int d = Pa_GetDefaultInputDevice();
        if (d == paNoDevice)
            return lc_fail(e, "no capture device found (see livecap devices)");
        return d;
    }
    if (all_digits(spec)) {
        long d = strtol(spec, NULL, 10);
        const PaDeviceInfo *di = d < n ? Pa_GetDeviceInfo((PaDeviceIndex)d) : NULL;
        if (di && di->maxInputChannels > 0)
            return (int)d;
    } else {
        int sub = -1;
        for (int i = 0; i < n; i++) {
            const PaDeviceInfo *di = Pa_GetDeviceInfo(i);
            if (!di || di->maxInputChannels <= 0 || !di->name)
                continue;
            if (strcasecmp(di->name, spec) == 0)
                return i;
            if (sub < 0 && ci_contains(di->name, spec))
                sub = i;
        }
        if (sub >= 0)
            return sub;
    }
    return lc_fail(e, "no capture device matches \"%s\" (see livecap devices)", spec);
}

/* ---------- device stream ---------- */

/* What a stream's callbacks get: the capture and the generation the stream
 * belongs to. A stream abandoned after its device died may still call back
 * (or come back to life); it must not become a second ring producer. */
typedef struct stream_ud {
    lc_capture *c;
    int gen;
} stream_ud;

/* Real-time thread: ring_write and atomics only. */
static int pa_callback(const void *in, void *out, unsigned long frames,
                       const PaStreamCallbackTimeInfo *ti, PaStreamCallbackFlags flags, void *ud)
{
    const stream_ud *u = ud;
    lc_capture *c = u->c;
    if (u->gen != atomic_load_explicit(&c->stream_gen, memory_order_acquire))
        return paAbort;
    atomic_store_explicit(&c->last_cb_ns, ring_now_ns(), memory_order_relaxed);
    if (in && !atomic_load_explicit(&c->paused, memory_order_relaxed))
        ring_write(c->ring, in, frames * (unsigned long)c->info.channels);
    return paContinue;
}

static void pa_finished(void *ud)
{
    const stream_ud *u = ud;
    if (u->gen == atomic_load(&u->c->stream_gen))
        atomic_store(&u->c->finished, 1);
}

/* Abandons the current stream without stopping or closing it. Once its
 * device is gone, PortAudio 19.6 can block forever joining the callback
 * thread (Pa_StopStream), and ALSA's jack plugin crashes in
 * jack_client_close on a dead server (seen here, under snd_pcm_close). So
 * the stream is left as it is: its callbacks see a stale generation and
 * return paAbort, and its few resources stay until the process exits. */
static void stream_abandon(lc_capture *c)
{
    if (!c->stream)
        return;
    atomic_fetch_add_explicit(&c->stream_gen, 1, memory_order_acq_rel);
    c->lost = 1;
    c->stream = NULL;
    c->stream_ud = NULL; /* still read by the abandoned stream's callbacks */
}

/* Opens c->dev_index at rate/channels; 0 or a PaError. */
static PaError stream_try(lc_capture *c, double rate, int channels)
{
    const PaDeviceInfo *di = Pa_GetDeviceInfo(c->dev_index);
    PaStreamParameters p = {
        .device = c->dev_index,
        .channelCount = channels,
        .sampleFormat = paFloat32,
        /* The high default (tens of ms) survives a loaded machine; captions
         * run on a 0.5-s cadence, so it costs nothing visible. */
        .suggestedLatency = di->defaultHighInputLatency,
        .hostApiSpecificStreamInfo = NULL,
    };
    c->info.channels = channels; /* read by the callback once it runs */
    stream_ud *u = malloc(sizeof *u);
    if (!u)
        return paInsufficientMemory;
    u->c = c;
    u->gen = atomic_load(&c->stream_gen);
    int q = quiet_begin();
    PaError err = Pa_IsFormatSupported(&p, NULL, rate);
    if (err == paFormatIsSupported)
        err = Pa_OpenStream(&c->stream, &p, NULL, rate, paFramesPerBufferUnspecified,
                            paClipOff, pa_callback, u);
    quiet_end(q);
    if (err == paNoError) {
        Pa_SetStreamFinishedCallback(c->stream, pa_finished);
        c->info.sample_rate = rate;
        free(c->stream_ud);
        c->stream_ud = u;
    } else {
        c->stream = NULL;
        free(u);
    }
    return err;
}

/* Tries the default rate, then the common ones; channels capped at 2. */
static int stream_open(lc_capture *c, lc_err *e)
{
    const PaDeviceInfo *di = Pa_GetDeviceInfo(c->dev_index);
    int ch = di->maxInputChannels < 2 ? di->maxInputChannels : 2;
    const double rates[] = {di->defaultSampleRate, 16000, 44100, 48000};
    PaError err = paInvalidSampleRate;
    for (int k = 0; k < 4; k++) {
        if (rates[k] <= 0 || (k > 0 && rates[k] == rates[0]))
            continue;
        for (int cc = ch; cc >= 1; cc--)
            if ((err = stream_try(c, rates[k], cc)) == paNoError)
                return 0;
    }
    return lc_fail(e, "capture device \"%s\": cannot open: %s", di->name, Pa_GetErrorText(err));
}

static void copy_name(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "?");
}

lc_capture *capture_open_device(const char *device, lc_ring *ring, lc_capture_info *info, lc_err *e)
{
    lc_capture *c = calloc(1, sizeof *c);
    if (!c) {
        lc_fail(e, "out of memory");
        return NULL;
    }
    c->ring = ring;
    copy_name(c->spec, sizeof c->spec, device ? device : "");
    PaError err = pa_init_quiet();
    if (err != paNoError) {
        lc_fail(e, "audio: cannot initialise PortAudio: %s", Pa_GetErrorText(err));
        free(c);
        return NULL;
    }
    c->pa_inited = 1;
    if ((c->dev_index = device_find(c->spec, e)) < 0 || stream_open(c, e) != 0) {
        capture_close(c);
        return NULL;
    }
    copy_name(c->info.device_name, sizeof c->info.device_name, Pa_GetDeviceInfo(c->dev_index)->name);
    if (info)
        *info = c->info;
    return c;
}

static int device_start(lc_capture *c, lc_err *e)
{
    atomic_store(&c->finished, 0);
    atomic_store(&c->stop_requested, 0);
    atomic_store(&c->last_cb_ns, 0);
    c->start_ns = ring_now_ns();
    int q = quiet_begin();
    PaError err = Pa_StartStream(c->stream);
    quiet_end(q);
    if (err != paNoError)
        return lc_fail(e, "capture device \"%s\": cannot start: %s", c->info.device_name, Pa_GetErrorText(err));
    return 0;
}

static void device_stop(lc_capture *c)
{
    atomic_store(&c->stop_requested, 1);
    if (c->stream) {
        int q = quiet_begin();
        Pa_StopStream(c->stream);
        quiet_end(q);
    }
}

int capture_reopen(lc_capture *c, lc_err *e)
{
    if (c->info.is_file)
        return lc_fail(e, "%s: not a capture device", c->info.device_name);
    int was_running = c->started;
    double rate = c->info.sample_rate;
    int ch = c->info.channels;
    /* never Pa_StopStream a stream whose device is in trouble: it can block
     * forever; abandon it to the reaper instead */
    stream_abandon(c);
    c->started = 0;
    /* The same device index, without re-initialising: PortAudio 19.6
     * asserts in Pa_Terminate once a JACK server it was attached to has died,
     * and the abandoned stream may still be closing. A device that came back
     * under the same index reopens; otherwise the caller retries later. */
    PaError err = stream_try(c, rate, ch);
    if (err == paNoError)
        return was_running ? capture_start(c, e) : 0;
    if (err != paNoError)
        return lc_fail(e, "capture device \"%s\": cannot reopen at %.0f Hz, %d channel(s): %s",
                       c->info.device_name, rate, ch, Pa_GetErrorText(err));
    return was_running ? capture_start(c, e) : 0;
}

/* ---------- file source ---------- */

/* Opens the file and reads its first block (so an empty or unreadable file
 * fails here, naming it); the rest is read by the pacing thread. Frame
 * counts are not trusted (hostile or streamed formats): the file ends when
 * sf_readf_float returns 0. */
static int file_open(lc_capture *c, const char *path, lc_err *e)
{
    SF_INFO si;
    memset(&si, 0, sizeof si);
    SNDFILE *sf = sf_open(path, SFM_READ, &si);
    if (!sf)
        return lc_fail(e, "%s: cannot read audio: %s", path, sf_strerror(NULL));
    if (si.channels < 1 || si.channels > 256 || si.samplerate < 1000 || si.samplerate > 768000) {
        sf_close(sf);
        return lc_fail(e, "%s: unsupported audio (%d channels, %d Hz)", path, si.channels, si.samplerate);
    }
    size_t block = (size_t)lround(si.samplerate * FILE_BLOCK_S);
    if (block < 1)
        block = 1;
    float *buf = malloc(block * (size_t)si.channels * sizeof(float));
    if (!buf) {
        sf_close(sf);
        return lc_fail(e, "%s: out of memory reading audio", path);
    }
    sf_count_t got = sf_readf_float(sf, buf, (sf_count_t)block);
    if (got <= 0) {
        free(buf);
        sf_close(sf);
        return lc_fail(e, "%s: no audio in file", path);
    }
    c->sf = sf;
    c->blockbuf = buf;
    c->block = block;
    c->have = (size_t)got;
    c->info.sample_rate = si.samplerate;
    c->info.channels = si.channels;
    return 0;
}

lc_capture *capture_open_file(const char *path, double speed, lc_ring *ring, lc_capture_info *info, lc_err *e)
{
    if (!(speed > 0) || !isfinite(speed)) {
        lc_fail(e, "--speed: must be a positive number (got %g)", speed);
        return NULL;
    }
    lc_capture *c = calloc(1, sizeof *c);
    if (!c) {
        lc_fail(e, "out of memory");
        return NULL;
    }
    c->ring = ring;
    c->speed = speed;
    c->info.is_file = 1;
    copy_name(c->info.device_name, sizeof c->info.device_name, path);
    if (file_open(c, path, e) != 0) {
        free(c);
        return NULL;
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&c->mu, NULL);
    if (info)
        *info = c->info;
    return c;
}

static struct timespec ns_to_ts(int64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
    return ts;
}

/* Deadline of the block that ends at frame `end`: the moment that frame
 * would have been recorded, counted from base_ns (shifted by pauses). */
static int64_t file_deadline(const lc_capture *c, int64_t base_ns, size_t end)
{
    return base_ns + (int64_t)llround((double)end * 1e9 / (c->info.sample_rate * c->speed));
}

static void *file_thread(void *arg)
{
    lc_capture *c = arg;
    /* base: when frame 0 would have been recorded had we never paused. */
    int64_t base = ring_now_ns() - (file_deadline(c, 0, c->sent));
    pthread_mutex_lock(&c->mu);
    int at_end = 0;
    while (!c->thread_stop) {
        if (c->have == 0) {
            /* a short read (10 ms of audio) under the mutex: pause/stop wait for it */
            sf_count_t got = sf_readf_float(c->sf, c->blockbuf, (sf_count_t)c->block);
            if (got <= 0) {
                at_end = 1; /* the end, or a read error: what was read has been played */
                break;
            }
            c->have = (size_t)got;
        }
        if (atomic_load(&c->paused)) {
            int64_t p0 = ring_now_ns();
            while (atomic_load(&c->paused) && !c->thread_stop)
                pthread_cond_wait(&c->cv, &c->mu);
            base += ring_now_ns() - p0;
            continue;
        }
        const size_t n = c->have;
        struct timespec dl = ns_to_ts(file_deadline(c, base, c->sent + n));
        int rc = 0;
        while (!c->thread_stop && !atomic_load(&c->paused) && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&c->cv, &c->mu, &dl);
        /* woken for stop or pause; a pause that took the mutex just as the
         * deadline passed wins too, so nothing is written once
         * capture_pause() has returned */
        if (rc != ETIMEDOUT || c->thread_stop || atomic_load(&c->paused))
            continue;
        /* Like a device: what does not fit is dropped (and counted). */
        ring_write(c->ring, c->blockbuf, n * (size_t)c->info.channels);
        c->sent += n;
        c->have = 0;
    }
    if (at_end)
        atomic_store(&c->eof, 1);
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* ---------- common ---------- */

int capture_start(lc_capture *c, lc_err *e)
{
    if (c->started)
        return 0;
    if (c->info.is_file) {
        c->thread_stop = 0;
        if (pthread_create(&c->thread, NULL, file_thread, c) != 0)
            return lc_fail(e, "%s: cannot start the reader thread", c->info.device_name);
    } else if (device_start(c, e) != 0) {
        return -1;
    }
    c->started = 1;
    return 0;
}

int capture_stop(lc_capture *c)
{
    if (!c || !c->started)
        return 0;
    if (c->info.is_file) {
        pthread_mutex_lock(&c->mu);
        c->thread_stop = 1;
        pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->mu);
        pthread_join(c->thread, NULL);
    } else if (capture_status(c, NULL, 0)) {
        stream_abandon(c); /* stopping a dead stream can block forever */
    } else {
        device_stop(c);
    }
    c->started = 0;
    return 0;
}

int capture_pause(lc_capture *c, int paused)
{
    if (c->info.is_file) {
        pthread_mutex_lock(&c->mu);
        atomic_store(&c->paused, paused != 0);
        pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->mu);
    } else {
        atomic_store(&c->paused, paused != 0);
    }
    return 0;
}

static int device_lost(const lc_capture *c)
{
    if (c->info.is_file || !c->stream || atomic_load(&((lc_capture *)c)->stop_requested))
        return 0;
    if (atomic_load(&((lc_capture *)c)->finished))
        return 1;
    return c->started && Pa_IsStreamActive(c->stream) != 1;
}

int capture_eof(const lc_capture *c)
{
    if (c->info.is_file)
        return atomic_load(&((lc_capture *)c)->eof);
    return device_lost(c);
}

uint64_t capture_overruns(const lc_capture *c)
{
    return ring_overruns(c->ring) / (uint64_t)(c->info.channels > 0 ? c->info.channels : 1);
}

int capture_status(const lc_capture *c, char *msg, size_t len)
{
    if (len)
        msg[0] = 0;
    if (c->info.is_file)
        return 0;
    if (c->lost && !c->stream) { /* abandoned, and not reopened yet */
        snprintf(msg, len, "capture device \"%s\" lost; retrying", c->info.device_name);
        return 1;
    }
    if (!c->started)
        return 0;
    if (device_lost(c)) {
        snprintf(msg, len, "capture device \"%s\" stopped (unplugged?)", c->info.device_name);
        return 1;
    }
    int64_t last = atomic_load(&((lc_capture *)c)->last_cb_ns);
    int64_t now = ring_now_ns(), since = last ? last : c->start_ns;
    if (now - since > STALL_NS) {
        snprintf(msg, len, "no audio from capture device \"%s\" for %.0f s",
                 c->info.device_name, (double)(now - since) / 1e9);
        return 1;
    }
    return 0;
}

void capture_close(lc_capture *c)
{
    if (!c)
        return;
    capture_stop(c);
    if (c->info.is_file) {
        pthread_cond_destroy(&c->cv);
        pthread_mutex_destroy(&c->mu);
        if (c->sf)
            sf_close(c->sf);
        free(c->blockbuf);
    } else {
        if (c->stream) {
            int q = quiet_begin();
            Pa_CloseStream(c->stream);
            quiet_end(q);
        }
        free(c->stream_ud);
        /* after a lost device PortAudio may be wedged (an abandoned stream
         * still closing, a dead JACK server): leave it to process exit */
        if (c->pa_inited && !c->lost)
            pa_term_quiet();
    }
    if (!c->lost)
        free(c);
}

int capture_list_devices(lc_device_desc *out, int max, lc_err *e)
{
    PaError err = pa_init_quiet();
    if (err != paNoError)
        return lc_fail(e, "audio: cannot initialise PortAudio: %s", Pa_GetErrorText(err));
    int q = quiet_begin(); /* host APIs may probe devices lazily */
    int n = Pa_GetDeviceCount(), def = Pa_GetDefaultInputDevice(), found = 0;
    for (int i = 0; i < n; i++) {
        const PaDeviceInfo *di = Pa_GetDeviceInfo(i);
        if (!di || di->maxInputChannels <= 0)
            continue;
        if (found < max) {
            lc_device_desc *d = &out[found];
            const PaHostApiInfo *h = Pa_GetHostApiInfo(di->hostApi);
            d->index = i;
            copy_name(d->name, sizeof d->name, di->name);
            copy_name(d->host_api, sizeof d->host_api, h ? h->name : "?");
            d->channels = di->maxInputChannels;
            d->default_rate = di->defaultSampleRate;
            d->is_default = i == def;
        }
        found++;
    }
    quiet_end(q);
    pa_term_quiet();
    if (n < 0)
        return lc_fail(e, "audio: cannot list capture devices: %s", Pa_GetErrorText(n));
    return found;
}
