import { describe, expect, it } from 'vitest';
import { createPeerConnectionFactory, isLoopbackUrl, peerFactoryOptionsFromFlags } from './peerFactory.js';

describe('createPeerConnectionFactory', () => {
  it('keeps peers on loopback for a loopback signaling server, unless asked for more', () => {
    expect(isLoopbackUrl('ws://127.0.0.1:8787')).toBe(true);
    expect(isLoopbackUrl('ws://localhost:1')).toBe(true);
    expect(isLoopbackUrl('ws://10.0.0.2:8787')).toBe(false);
    expect(isLoopbackUrl('not a url')).toBe(false);
    const pc = createPeerConnectionFactory({ signalUrl: 'ws://127.0.0.1:1' })();
    expect(typeof pc.createDataChannel).toBe('function');
    pc.close();
  });

  it('refuses an unknown backend and a TURN server without credentials', () => {
    expect(() => createPeerConnectionFactory({ signalUrl: 'ws://127.0.0.1:1', peer: 'libwebrtc' })).toThrow(
      /--peer must be werift or node-datachannel/,
    );
    const f = createPeerConnectionFactory({
      signalUrl: 'ws://example.invalid:1',
      iceServerUrls: ['turn:t.invalid:3478'],
    });
    expect(() => f()).toThrow(/TURN server needs username and credential/);
  });

  it('relayOnly needs a TURN server, and sets iceTransportPolicy relay', () => {
    expect(() =>
      createPeerConnectionFactory({
        signalUrl: 'ws://127.0.0.1:1',
        iceServerUrls: ['stun:s.invalid:3478'],
        relayOnly: true,
      }),
    ).toThrow(/--ice-policy relay needs a TURN server/);
    const pc = createPeerConnectionFactory({
      signalUrl: 'ws://127.0.0.1:1',
      iceServerUrls: ['turn:10.77.0.1:3478?transport=udp'],
      username: 'u',
      credential: 'p',
      relayOnly: true,
    })();
    expect((pc as unknown as { config: { iceTransportPolicy: string } }).config.iceTransportPolicy).toBe(
      'relay',
    );
    pc.close();
  });
});

describe('peerFactoryOptionsFromFlags', () => {
  it('maps the CLIs shared flags and refuses an unknown --ice-policy, naming it', () => {
    expect(
      peerFactoryOptionsFromFlags('ws://h:1', {
        peer: 'werift',
        'ice-server': ['turn:t:3478'],
        'ice-username': 'u',
        'ice-credential': 'c',
        'ice-policy': 'relay',
      }),
    ).toEqual({
      signalUrl: 'ws://h:1',
      peer: 'werift',
      iceServerUrls: ['turn:t:3478'],
      username: 'u',
      credential: 'c',
      relayOnly: true,
    });
    expect(peerFactoryOptionsFromFlags('ws://127.0.0.1:1', {})).toEqual({
      signalUrl: 'ws://127.0.0.1:1',
      iceServerUrls: [],
    });
    expect(() => peerFactoryOptionsFromFlags('ws://h:1', { 'ice-policy': 'stun' })).toThrow(
      /--ice-policy must be all or relay, got 'stun'/,
    );
  });
});
