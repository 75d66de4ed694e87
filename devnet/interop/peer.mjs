// A js-libp2p peer for Keel's interop tests and benchmarks, driven by arguments and stdin lines.
//   node peer.mjs [--port P] [--seed HEX32 | --secp256k1] [--topic T]... [--dial MULTIADDR]
// stdout (one event per line):
//   PEER <id> | LISTEN <multiaddr> | CONNECTED <id> | DISCONNECTED <id> | IDENTIFY <id> <agent> <protocol,...>
//   SUBSCRIBED <id> <topic> | MSG <topic> <from> <utf8 data> | PING <ms> | PUBLISHED <topic> <peers>
//   RECEIVED <topic> <count> <ms since first> | SENT <count> <ms> | DIALED <id> <ms> | ERROR <text>
// stdin commands:
//   dial <multiaddr> | ping <multiaddr> | publish <topic> <text> | subscribe <topic>
//   waitsub <topic>            (prints SUBSCRIBED-READY <topic> once a remote is subscribed)
//   expect <topic> <count>     (prints RECEIVED when that many messages arrived; silences MSG)
//   flood <topic> <count> <bytes>  (publishes count messages of bytes each, prints SENT)
//   handshakes <multiaddr> <n> (n fresh connections; prints HANDSHAKES <n> <median ms> <mean ms>)
//   exit
import './polyfill.mjs'
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { gossipsub } from '@libp2p/gossipsub'
import { generateKeyPair, generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import readline from 'node:readline'

const args = process.argv.slice(2)
const arg = (k, d) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : d }
const all = (k) => args.flatMap((a, i) => (a === k ? [args[i + 1]] : []))
const say = (line) => process.stdout.write(line + '\n')

const seed = arg('--seed')
const privateKey = seed
  ? await generateKeyPairFromSeed('Ed25519', Buffer.from(seed, 'hex'))
  : args.includes('--secp256k1') ? await generateKeyPair('secp256k1') : undefined
const node = await createLibp2p({
  ...(privateKey ? { privateKey } : {}),
  addresses: { listen: ['/ip4/127.0.0.1/tcp/' + arg('--port', '0')] },
  // The benchmark dials one listener many times a second from one address; js's default inbound
  // rate limit (5/s per host) would refuse that.
  connectionManager: { inboundConnectionThreshold: 10000, maxIncomingPendingConnections: 1000 },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  services: {
    identify: identify(),
    ping: ping(),
    pubsub: gossipsub({ allowPublishToZeroTopicPeers: true, maxInboundDataLength: 4 * 1024 * 1024 })
  }
})
const pubsub = node.services.pubsub
const expectations = new Map() // topic -> { want, got, first }

node.addEventListener('peer:connect', (e) => say(`CONNECTED ${e.detail.toString()}`))
node.addEventListener('peer:disconnect', (e) => say(`DISCONNECTED ${e.detail.toString()}`))
node.addEventListener('peer:identify', (e) =>
  say(`IDENTIFY ${e.detail.peerId.toString()} ${e.detail.agentVersion ?? '-'} ${(e.detail.protocols ?? []).join(',')}`))
pubsub.addEventListener('subscription-change', (e) => {
  for (const s of e.detail.subscriptions) if (s.subscribe) say(`SUBSCRIBED ${e.detail.peerId.toString()} ${s.topic}`)
})
pubsub.addEventListener('message', (e) => {
  const m = e.detail
  const exp = expectations.get(m.topic)
  if (exp) {
    if (exp.got === 0) exp.first = performance.now()
    exp.got++
    if (exp.got === exp.want) say(`RECEIVED ${m.topic} ${exp.got} ${(performance.now() - exp.first).toFixed(3)}`)
    return
  }
  const from = m.type === 'signed' ? m.from.toString() : '-'
  say(`MSG ${m.topic} ${from} ${new TextDecoder().decode(m.data)}`)
})

for (const t of all('--topic')) pubsub.subscribe(t)
say(`PEER ${node.peerId.toString()}`)
for (const a of node.getMultiaddrs()) say(`LISTEN ${a.toString()}`)

// js gossipsub drops RPCs to a peer until its own outbound stream to that peer is open (it logs
// "Cannot send RPC ... no open stream"), so a subscriber only counts once that stream exists.
// streamsOutbound is internal to @libp2p/gossipsub 17; this is test tooling pinned to it.
const reachable = (topic) => pubsub.getSubscribers(topic).filter((p) => pubsub.streamsOutbound?.has(p.toString()) ?? true)

async function waitSubscribers (topic, timeoutMs) {
  const end = Date.now() + timeoutMs
  while (reachable(topic).length === 0) {
    if (Date.now() > end) throw new Error(`no subscriber on ${topic} within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

async function run (line) {
  const [cmd, ...rest] = line.trim().split(' ')
  switch (cmd) {
    case 'dial': {
      const t0 = performance.now()
      const conn = await node.dial(multiaddr(rest[0]))
      say(`DIALED ${conn.remotePeer.toString()} ${(performance.now() - t0).toFixed(3)}`)
      break
    }
    case 'handshakes': {
      // Fresh connections to one peer: dial, time it, hang up, repeat.
      const times = []
      for (let i = 0; i < Number(rest[1]); i++) {
        const t0 = performance.now()
        const conn = await node.dial(multiaddr(rest[0]))
        times.push(performance.now() - t0)
        await conn.close()
        await new Promise((r) => setTimeout(r, 20))
      }
      times.sort((a, b) => a - b)
      say(`HANDSHAKES ${times.length} ${times[Math.floor(times.length / 2)].toFixed(3)} ${(times.reduce((a, b) => a + b, 0) / times.length).toFixed(3)}`)
      break
    }
    case 'ping': say(`PING ${await node.services.ping.ping(multiaddr(rest[0]))}`); break
    case 'subscribe': pubsub.subscribe(rest[0]); break
    case 'waitsub': await waitSubscribers(rest[0], 20000); say(`SUBSCRIBED-READY ${rest[0]}`); break
    case 'publish': {
      const r = await pubsub.publish(rest[0], new TextEncoder().encode(rest.slice(1).join(' ')))
      say(`PUBLISHED ${rest[0]} ${r.recipients.length}`)
      break
    }
    case 'expect': expectations.set(rest[0], { want: Number(rest[1]), got: 0, first: 0 }); say(`EXPECTING ${rest[0]}`); break
    case 'flood': {
      const [topic, count, bytes] = [rest[0], Number(rest[1]), Number(rest[2])]
      const t0 = performance.now()
      for (let i = 0; i < count; i++) {
        const data = new Uint8Array(bytes)
        new DataView(data.buffer).setUint32(0, i)
        await pubsub.publish(topic, data)
      }
      say(`SENT ${count} ${(performance.now() - t0).toFixed(3)}`)
      break
    }
    case 'exit': await node.stop(); process.exit(0)
    default: say(`ERROR unknown command ${cmd}`)
  }
}

if (arg('--dial')) await run(`dial ${arg('--dial')}`)

// Commands run one at a time, in order.
let chain = Promise.resolve()
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  if (!line.trim()) return
  chain = chain.then(() => run(line)).catch((e) => say(`ERROR ${e.message.replaceAll('\n', ' ')}`))
}).on('close', async () => { await chain; await node.stop(); process.exit(0) })
