import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '@parley/schema';
import { Liveness } from './Liveness';

/** A socket stand-in: counts pings, answers with `pong()` when the test says so. */
function fakeSocket() {
  const events = new EventEmitter();
  let pings = 0;
  return {
    ws: { ping: () => void pings++, on: (event: string, listener: () => void) => events.on(event, listener) } as never,
    pong: () => events.emit('pong'),
    pings: () => pings,
  };
}

describe('Liveness', () => {
  const every = DEFAULTS.wsPingIntervalMs;

  it('pings once per interval and keeps a socket that answers', () => {
    const socket = fakeSocket();
    const liveness = new Liveness(socket.ws);
    const start = Date.now();
    for (let i = 1; i <= 10; i++) {
      expect(liveness.tick(start + i * every)).toBe(true);
      socket.pong();
    }
    expect(socket.pings()).toBe(10);
  });

  it('keeps a socket that answers late, and gives up on one that leaves every ping unanswered', () => {
    const late = fakeSocket();
    const slow = new Liveness(late.ws);
    const start = Date.now();
    expect(slow.tick(start + every)).toBe(true);
    expect(slow.tick(start + 2 * every)).toBe(true);
    late.pong();
    expect(slow.tick(start + 3 * every)).toBe(true);

    const silent = fakeSocket();
    const dead = new Liveness(silent.ws);
    // Times from after the constructor: it starts its clock at Date.now().
    const since = Date.now();
    const verdicts = Array.from({ length: DEFAULTS.wsPingMissesMax + 1 }, (_, i) => dead.tick(since + (i + 1) * every));
    expect(verdicts.slice(0, -1).every(Boolean)).toBe(true);
    expect(verdicts.at(-1)).toBe(false);
  });
});
