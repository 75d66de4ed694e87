// A real wallet library (ethers 6) against a running Keel devnet, driven by DevnetWalletTests.
// usage: node wallet-transfers.mjs <devnet dir> <devnet info url> <transfers per chain>
// Sends transfers from several dev accounts to every rollup, checks receipts, balances and nonces,
// checks that bad transactions get JSON-RPC errors, and that newHeads arrive over WebSocket.
// Prints one JSON line with what it saw; exits non-zero on any failed check or after its deadline.
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [devnetDir, infoUrl, perChainArg] = process.argv.slice(2);
const perChain = Number(perChainArg ?? 100);
const deadlineMs = Number(process.env.KEEL_WALLET_DEADLINE_MS ?? 150_000);
setTimeout(() => { console.error(`wallet-transfers: not done within ${deadlineMs} ms`); process.exit(2); }, deadlineMs).unref();

const { ethers } = await import(pathToFileURL(path.join(devnetDir, 'node_modules', 'ethers', 'lib.esm', 'index.js')).href);

const failures = [];
const check = (ok, what) => { if (!ok) failures.push(what); };

const info = await (await fetch(infoUrl)).json();
check(Array.isArray(info.rollups) && info.rollups.length >= 2, 'devnet info lists at least two rollups');
check(Array.isArray(info.validators) && info.validators.length >= 1, 'devnet info lists validators');
check(typeof info.metrics === 'string', 'devnet info has the metrics url');

const senderCount = 5;
const out = { chains: [] };

async function rpcError(promise) {
  try {
    await promise;
    return null;
  } catch (e) {
    const err = e.error ?? e.info?.error ?? e;
    // reason: what ethers decoded from Error(string) revert data, when there was any.
    return { code: err.code, message: err.message ?? String(e), reason: e.reason ?? null };
  }
}

async function runChain(rollup) {
  const chainId = BigInt(rollup.chainId);
  const provider = new ethers.JsonRpcProvider(rollup.rpc, chainId, { staticNetwork: true, pollingInterval: 50, batchMaxCount: 1 });
  const net = await provider.getNetwork();
  check(net.chainId === chainId, `chain ${chainId}: eth_chainId answers ${net.chainId}`);
  const senders = info.accounts.slice(0, senderCount).map(a => new ethers.Wallet(a.privateKey, provider));
  const recipients = senders.map(() => ethers.Wallet.createRandom().address);
  const startNonces = await Promise.all(senders.map(s => provider.getTransactionCount(s.address, 'pending')));
  const startBalances = await Promise.all(senders.map(s => provider.getBalance(s.address)));
  const feeData = await provider.getFeeData();
  check(feeData.maxFeePerGas !== null && feeData.gasPrice !== null, `chain ${chainId}: fee data`);

  const sent = senders.map(() => []);
  const perSender = Math.ceil(perChain / senderCount);
  const sendsFor = async (i) => {
    const sender = senders[i];
    for (let k = 0; k < perSender; k++) {
      const value = 1_000_000_000n + BigInt(i * 1000 + k);
      // The first transfer of each sender lets ethers fill in everything (pending nonce, estimateGas,
      // fee data); the others give nonce and fees, as a wallet sending a burst does.
      const request = k === 0
        ? { to: recipients[i], value }
        : { to: recipients[i], value, nonce: startNonces[i] + k, gasLimit: 21000n, maxFeePerGas: feeData.maxFeePerGas, maxPriorityFeePerGas: feeData.maxPriorityFeePerGas, chainId, type: 2 };
      if (k % 7 === 3) {
        // a legacy (EIP-155) transaction now and then
        delete request.maxFeePerGas; delete request.maxPriorityFeePerGas;
        request.type = 0; request.gasPrice = feeData.gasPrice;
      }
      const tx = await sender.sendTransaction(request);
      sent[i].push({ tx, value });
    }
  };
  const t0 = Date.now();
  await Promise.all(senders.map((_, i) => sendsFor(i)));
  const receipts = await Promise.all(sent.flat().map(({ tx }) => tx.wait(1, 60_000)));
  const elapsedMs = Date.now() - t0;
  check(receipts.every(r => r && r.status === 1), `chain ${chainId}: every receipt has status 1`);
  check(receipts.every(r => r.gasUsed === 21000n), `chain ${chainId}: every transfer used 21000 gas`);

  for (let i = 0; i < senders.length; i++) {
    const nonce = await provider.getTransactionCount(senders[i].address, 'latest');
    check(nonce === startNonces[i] + perSender, `chain ${chainId}: sender ${i} nonce ${nonce}, want ${startNonces[i] + perSender}`);
    const got = await provider.getBalance(recipients[i]);
    const want = sent[i].reduce((sum, s) => sum + s.value, 0n);
    check(got === want, `chain ${chainId}: recipient ${i} balance ${got}, want ${want}`);
    let spent = 0n;
    for (const s of sent[i]) {
      const r = receipts.find(x => x.hash === s.tx.hash);
      spent += s.value + r.gasUsed * r.gasPrice;
    }
    const balance = await provider.getBalance(senders[i].address);
    check(balance === startBalances[i] - spent, `chain ${chainId}: sender ${i} balance ${balance}, want ${startBalances[i] - spent}`);
  }

  const one = receipts[0];
  const fetched = await provider.getTransaction(one.hash);
  check(fetched && fetched.blockNumber === one.blockNumber, `chain ${chainId}: eth_getTransactionByHash finds the transaction in its block`);
  const block = await provider.getBlock(one.blockNumber);
  check(block && block.transactions.includes(one.hash), `chain ${chainId}: the receipt's block lists the transaction`);
  const status = await provider.send('keel_getTransactionStatus', [one.hash]);
  check(status && status.stage === 'committed', `chain ${chainId}: keel_getTransactionStatus says committed`);
  const payload = await provider.send('keel_getNamespacePayload', [ethers.toQuantity(one.blockNumber)]);
  check(payload && payload.verified === true && payload.transactions.length >= 1, `chain ${chainId}: keel_getNamespacePayload returns a verified payload`);

  // Bad input: each gets a JSON-RPC error, none is accepted.
  const s0 = senders[0];
  const creation = await s0.signTransaction({ data: '0x6080604052348015600f57600080fd5b50', gasLimit: 100000n, nonce: startNonces[0] + perSender, chainId, maxFeePerGas: feeData.maxFeePerGas, maxPriorityFeePerGas: feeData.maxPriorityFeePerGas, type: 2 });
  const errors = {
    contractCreation: await rpcError(provider.send('eth_sendRawTransaction', [creation])),
    contractCreationViaWallet: await rpcError(s0.sendTransaction({ data: '0x6080604052348015600f57600080fd5b50' })),
    garbage: await rpcError(provider.send('eth_sendRawTransaction', ['0xdeadbeef'])),
    wrongChain: await rpcError(provider.send('eth_sendRawTransaction', [await s0.signTransaction({ to: recipients[0], value: 1n, nonce: startNonces[0] + perSender, chainId: 999n, gasLimit: 21000n, maxFeePerGas: feeData.maxFeePerGas, maxPriorityFeePerGas: 0n, type: 2 })])),
    nonceTooLow: await rpcError(provider.send('eth_sendRawTransaction', [await s0.signTransaction({ to: recipients[0], value: 1n, nonce: startNonces[0], chainId, gasLimit: 21000n, maxFeePerGas: feeData.maxFeePerGas, maxPriorityFeePerGas: 0n, type: 2 })])),
    nonceTooHigh: await rpcError(provider.send('eth_sendRawTransaction', [await s0.signTransaction({ to: recipients[0], value: 1n, nonce: startNonces[0] + perSender + 100000, chainId, gasLimit: 21000n, maxFeePerGas: feeData.maxFeePerGas, maxPriorityFeePerGas: 0n, type: 2 })])),
    insufficientFunds: await rpcError(provider.send('eth_sendRawTransaction', [await ethers.Wallet.createRandom().signTransaction({ to: recipients[0], value: 1n, nonce: 0, chainId, gasLimit: 21000n, maxFeePerGas: feeData.maxFeePerGas, maxPriorityFeePerGas: 0n, type: 2 })])),
  };
  for (const [name, e] of Object.entries(errors)) {
    check(e !== null, `chain ${chainId}: ${name} was accepted`);
  }
  check(errors.contractCreation?.code === -32003 && /only value transfers/.test(errors.contractCreation.message), `chain ${chainId}: contract creation error ${JSON.stringify(errors.contractCreation)}`);
  // Through the wallet, ethers estimates gas first: the reason must reach the user, not "missing revert data".
  check(errors.contractCreationViaWallet?.code === 3 && /only value transfers/.test(errors.contractCreationViaWallet.reason ?? ''), `chain ${chainId}: contract creation via wallet error ${JSON.stringify(errors.contractCreationViaWallet)}`);
  check(/nonce too low/.test(errors.nonceTooLow?.message ?? ''), `chain ${chainId}: nonce too low error ${JSON.stringify(errors.nonceTooLow)}`);
  check(/insufficient funds/.test(errors.insufficientFunds?.message ?? ''), `chain ${chainId}: insufficient funds error ${JSON.stringify(errors.insufficientFunds)}`);
  check(/chain id/.test(errors.wrongChain?.message ?? ''), `chain ${chainId}: wrong chain error ${JSON.stringify(errors.wrongChain)}`);
  // Nothing refused changed the sender's nonce.
  check(await provider.getTransactionCount(s0.address, 'pending') === startNonces[0] + perSender, `chain ${chainId}: refused transactions left the pending nonce alone`);

  // newHeads over WebSocket
  const ws = new ethers.WebSocketProvider(rollup.ws, chainId, { staticNetwork: true });
  const head = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no newHeads within 10 s')), 10_000);
    ws.on('block', n => { clearTimeout(timer); resolve(n); });
  }).catch(e => { failures.push(`chain ${chainId}: ${e.message}`); return null; });
  await ws.destroy();
  provider.destroy();
  return { chainId: rollup.chainId, transfers: receipts.length, elapsedMs, head, errors };
}

// Limits of the RPC server: batches over 100 calls and bodies over 5 MiB are refused with JSON-RPC errors.
async function limits(url) {
  const batch = Array.from({ length: 101 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'eth_blockNumber', params: [] }));
  const tooMany = await (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(batch) })).json();
  check(!Array.isArray(tooMany) && tooMany.error?.code === -32600, `a batch of 101 gets one -32600 error: ${JSON.stringify(tooMany).slice(0, 200)}`);
  const ok = await (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(batch.slice(0, 100)) })).json();
  check(Array.isArray(ok) && ok.length === 100 && ok.every(r => typeof r.result === 'string'), 'a batch of 100 is answered in full');
  const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_sendRawTransaction', params: ['0x' + 'ab'.repeat(3 * 1024 * 1024)] });
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
  const bigAnswer = await response.json().catch(() => null);
  check(response.status === 413 && bigAnswer?.error?.code === -32600, `a 6 MiB body gets HTTP 413 with -32600 (got ${response.status})`);
  return { batch101: tooMany.error, body6MiB: response.status };
}

try {
  out.limits = await limits(info.rollups[0].rpc);
  out.chains = await Promise.all(info.rollups.map(runChain));
} catch (e) {
  failures.push(`unexpected: ${e.stack ?? e}`);
}
out.failures = failures;
console.log(JSON.stringify(out, (_, v) => typeof v === 'bigint' ? v.toString() : v));
process.exit(failures.length === 0 ? 0 : 1);
