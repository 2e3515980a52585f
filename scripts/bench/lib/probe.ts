/**
 * Preloaded (`--import`) into every benchmarked server process, Parley and
 * baselines alike, so memory, CPU and event-loop delay are read the same way
 * for all of them without touching their code. Answers over the IPC channel
 * the runner opens; does nothing when started without one.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

interface ProfileRequest {
  type: 'bench-profile';
  id: number;
  action: 'start' | 'stop';
  /** Where `stop` writes the .cpuprofile. */
  file?: string;
}

interface StatsRequest {
  type: 'bench-stats';
  id: number;
  gc?: boolean;
  reset?: boolean;
}

if (process.send) {
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  let peakRss = 0;
  let peakHeap = 0;
  const sample = (): void => {
    const memory = process.memoryUsage();
    peakRss = Math.max(peakRss, memory.rss);
    peakHeap = Math.max(peakHeap, memory.heapUsed + memory.external);
  };
  // BENCH_PROBE_SAMPLE_MS=0 turns the peak sampler off: the per-message CPU and instruction
  // counts run without it, since process.memoryUsage() every 50 ms cost Parley's server
  // ~12 % of its CPU in a sequential A -> B profile (and stock Hocuspocus' far less).
  const sampleMs = Number(process.env.BENCH_PROBE_SAMPLE_MS ?? 50);
  if (sampleMs > 0) setInterval(sample, sampleMs).unref();

  // A CPU profile of a chosen window (the inspector, in-process), for naming the cause of a loss.
  let session: Session | null = null;
  process.on('message', (raw: unknown) => {
    const request = raw as Partial<ProfileRequest>;
    if (!request || request.type !== 'bench-profile') return;
    const done = (error?: unknown): void => void process.send?.({ type: 'bench-profile', id: request.id, error: error ? String(error) : undefined });
    if (request.action === 'start') {
      session = new Session();
      session.connect();
      session.post('Profiler.enable', () =>
        session!.post('Profiler.setSamplingInterval', { interval: 100 }, () => session!.post('Profiler.start', (error) => done(error))),
      );
    } else if (session) {
      session.post('Profiler.stop', (error, result) => {
        if (!error && request.file) writeFileSync(request.file, JSON.stringify(result.profile));
        session?.disconnect();
        session = null;
        done(error);
      });
    } else done('no profile running');
  });

  process.on('message', (raw: unknown) => {
    const request = raw as Partial<StatsRequest>;
    if (!request || request.type !== 'bench-stats') return;
    const collect = (globalThis as { gc?: () => void }).gc;
    if (request.gc && collect) {
      collect();
      collect();
    }
    sample();
    const memory = process.memoryUsage();
    const ns = (value: number): number => value / 1e6;
    process.send?.({
      type: 'bench-stats',
      id: request.id,
      memory,
      cpu: process.cpuUsage(),
      // The main thread's time not idle in the event loop, ms since start: a request's own server
      // time, without the GC helper and thread-pool threads process.cpuUsage() adds in.
      busyMs: performance.eventLoopUtilization().active,
      peakRss,
      peakHeap,
      eventLoop: { p50: ns(delay.percentile(50)), p99: ns(delay.percentile(99)), max: ns(delay.max), mean: ns(delay.mean) },
    });
    if (request.reset) {
      delay.reset();
      peakRss = memory.rss;
      peakHeap = memory.heapUsed + memory.external;
    }
  });
  // The channel must not keep a server alive that wants to exit (SIGTERM handling).
  (process.channel as { unref?: () => void } | undefined)?.unref?.();
}
