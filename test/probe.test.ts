import { createRequire } from 'node:module';
import { expect, inject, it } from 'vitest';
import { freePort } from '../src/local/ports.js';
import { connectClient, temporalAnswers } from '../src/temporal/connect.js';

// grpc-js's channel registry (channelz): every open channel is listed until it is closed. The same copy of
// grpc-js that @temporalio/client uses.
const require = createRequire(createRequire(import.meta.url).resolve('@temporalio/client'));
const channelz = require('@grpc/grpc-js/build/src/channelz') as {
  getChannelzHandlers(): { GetTopChannels(call: { request: object }, cb: (err: unknown, res: { channel: Array<{ data: { target: string } }> }) => void): void };
};

function openChannelsTo(address: string): Promise<number> {
  return new Promise((resolve, reject) =>
    channelz.getChannelzHandlers().GetTopChannels({ request: { start_channel_id: 0, max_results: 1000 } }, (err, res) =>
      err ? reject(err) : resolve(res.channel.filter((c) => c.data.target.includes(address)).length),
    ),
  );
}

it('a failed readiness probe leaves no gRPC channel behind to slow down later probes with its reconnect backoff', async () => {
  const address = `127.0.0.1:${await freePort()}`;
  for (let i = 0; i < 3; i++) expect(await temporalAnswers(address, 300)).toBe(false);
  expect(await openChannelsTo(address)).toBe(0);
  await expect(connectClient({ address, namespace: 'default', connectTimeoutMs: 300 })).rejects.toThrow();
  expect(await openChannelsTo(address)).toBe(0);
});

it('a probe of a running server answers, and closes its channel too', async () => {
  const address = inject('temporalAddress');
  expect(await temporalAnswers(address)).toBe(true);
  expect(await openChannelsTo(address)).toBe(0);
});
