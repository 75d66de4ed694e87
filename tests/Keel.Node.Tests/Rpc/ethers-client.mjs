// A real Ethereum client (ethers 6) against a Keel RPC server, driven by RpcEthersTests.
// usage: node ethers-client.mjs <devnet dir> <http url> <ws url> <expected blocks>
// Prints one JSON line with what it saw; exits non-zero on any failure or after its deadline.
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [devnetDir, httpUrl, wsUrl, blockCountArg] = process.argv.slice(2);
const expectedBlocks = Number(blockCountArg ?? 3);
const deadlineMs = 30_000;
setTimeout(() => { console.error(`ethers-client: no result within ${deadlineMs} ms`); process.exit(2); }, deadlineMs).unref();

// ethers lives in devnet/node_modules, which is not an ancestor of this file: import it by path.
const { ethers } = await import(pathToFileURL(path.join(devnetDir, 'node_modules', 'ethers', 'lib.esm', 'index.js')).href);

const out = {};
const http = new ethers.JsonRpcProvider(httpUrl);
try {
  out.chainId = (await http.getNetwork()).chainId.toString();
  out.clientVersion = await http.send('web3_clientVersion', []);
  // Issued together, these leave ethers as one JSON-RPC batch.
  const [chainId, netVersion, modules] = await Promise.all([
    http.send('eth_chainId', []), http.send('net_version', []), http.send('rpc_modules', []),
  ]);
  out.batch = { chainId, netVersion, modules: Object.keys(modules).sort() };
  try {
    await http.send('eth_noSuchMethod', []);
    out.unknownMethod = 'no error';
  } catch (e) {
    // ethers recognises geth's "the method X does not exist" wording as UNSUPPORTED_OPERATION.
    const rpcError = e.error ?? e.info?.error;
    out.unknownMethod = { ethersCode: e.code, code: rpcError?.code ?? null, message: rpcError?.message ?? String(e) };
  }
} finally {
  http.destroy();
}

const ws = new ethers.WebSocketProvider(wsUrl);
try {
  out.wsChainId = (await ws.getNetwork()).chainId.toString();
  out.blocks = [];
  await new Promise((resolve) => {
    ws.on('block', (n) => {
      out.blocks.push(n);
      if (out.blocks.length === expectedBlocks) resolve();
    });
  });
} finally {
  await ws.destroy();
}
console.log(JSON.stringify(out));
process.exit(0);
