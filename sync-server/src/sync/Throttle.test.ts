import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { WebSocket } from 'ws';
import { DEFAULTS } from '@parley/schema';
import { Throttle } from './Throttle';

/** The two calls Throttle makes on a socket, recorded. */
function fakeSocket() {
  const socket = { paused: false, pauses: 0, pause: () => ((socket.paused = true), socket.pauses++), resume: () => (socket.paused = false) };
  return socket;
}

describe('Throttle', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'Date', 'performance'] }));
  afterEach(() => vi.useRealTimers());

  it('lets a burst through, then holds the socket paused until every message read meanwhile is paid for', () => {
    const socket = fakeSocket();
    const throttle = new Throttle(socket as unknown as WebSocket, () => {});
    for (let i = 0; i < DEFAULTS.messagesBurstPerConnection; i++) throttle.admit();
    expect(socket.pauses).toBe(0);
    // One read of a socket can hold over a thousand small messages: all arrive though paused.
    for (let i = 0; i < 1500; i++) throttle.admit();
    expect(socket.paused).toBe(true);
    const debtMs = (1500 / DEFAULTS.messagesPerSecondPerConnection) * 1000;
    vi.advanceTimersByTime(debtMs - 100);
    expect(socket.paused).toBe(true);
    vi.advanceTimersByTime(200);
    expect(socket.paused).toBe(false);
  });

  it('closes a socket that keeps flooding for throttleMaxMs, once', () => {
    const socket = fakeSocket();
    const onFlood = vi.fn();
    const throttle = new Throttle(socket as unknown as WebSocket, onFlood);
    // Twice the rate, sent whenever the socket is read: the burst runs out, then the flood limit.
    const untilClosed = ((DEFAULTS.messagesBurstPerConnection / DEFAULTS.messagesPerSecondPerConnection) * 1000) + DEFAULTS.throttleMaxMs + 2000;
    for (let ms = 0; ms < untilClosed; ms += 10) {
      if (!socket.paused) for (let i = 0; i < 20; i++) throttle.admit();
      vi.advanceTimersByTime(10);
    }
    expect(onFlood).toHaveBeenCalledTimes(1);
  });

  it('closes a flood even when the server resumes the socket late (a busy event loop)', () => {
    const socket = fakeSocket();
    const onFlood = vi.fn();
    const throttle = new Throttle(socket as unknown as WebSocket, onFlood);
    // Each resume comes 300 ms late and finds the bucket refilled; the client sends twice the rate regardless.
    for (let ms = 0; ms < DEFAULTS.throttleMaxMs + 10_000; ms += 300) {
      if (!socket.paused) for (let i = 0; i < 600; i++) throttle.admit();
      vi.advanceTimersByTime(300);
    }
    expect(onFlood).toHaveBeenCalledTimes(1);
  });

  it('forgives an honest burst once the client calms down', () => {
    const socket = fakeSocket();
    const onFlood = vi.fn();
    const throttle = new Throttle(socket as unknown as WebSocket, onFlood);
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < DEFAULTS.messagesBurstPerConnection + 1000; i++) throttle.admit();
      vi.advanceTimersByTime(DEFAULTS.throttleMaxMs);
    }
    expect(onFlood).not.toHaveBeenCalled();
  });
});
