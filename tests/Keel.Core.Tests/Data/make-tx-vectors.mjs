// Writes tx-vectors.json: Ethereum transactions signed by ethers 6 with anvil's dev keys, so that
// Keel's decoder, encoder, hashes and sender recovery are checked against a real wallet library.
// Run from the repository root after devnet/setup.sh:
//   node tests/Keel.Core.Tests/Data/make-tx-vectors.mjs > tests/Keel.Core.Tests/Data/tx-vectors.json
// The tests read the JSON; they never run node.
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "../../../devnet/package.json"));
const { ethers } = require("ethers");

const mnemonic = "test test test test test test test test test test test junk"; // anvil's default
const keys = [0, 1, 2, 3].map((i) => ethers.HDNodeWallet.fromPhrase(mnemonic, undefined, `m/44'/60'/0'/0/${i}`));
const gwei = (n) => ethers.parseUnits(String(n), "gwei");
const maxU256 = (1n << 256n) - 1n;

const cases = [
  { name: "legacy eip155 chain 1 simple transfer", key: 0, tx: { type: 0, chainId: 1n, nonce: 0, gasPrice: gwei(20), gasLimit: 21000n, to: keys[1].address, value: ethers.parseEther("1") } },
  { name: "legacy eip155 chain 901 zero value", key: 1, tx: { type: 0, chainId: 901n, nonce: 7, gasPrice: gwei(1), gasLimit: 21000n, to: keys[2].address, value: 0n } },
  { name: "legacy eip155 chain 31337 value 1 wei", key: 2, tx: { type: 0, chainId: 31337n, nonce: 255, gasPrice: 1n, gasLimit: 30000n, to: keys[0].address, value: 1n } },
  { name: "legacy pre-eip155 (no chain id)", key: 0, tx: { type: 0, chainId: 0n, nonce: 3, gasPrice: gwei(50), gasLimit: 21000n, to: keys[3].address, value: 12345678901234567890n } },
  { name: "legacy contract creation with init code", key: 3, tx: { type: 0, chainId: 901n, nonce: 0, gasPrice: gwei(2), gasLimit: 1000000n, to: null, value: 0n, data: "0x6080604052348015600e575f5ffd5b50603e80601a5f395ff3fe60806040525f5ffdfea164736f6c634300081e000a" } },
  { name: "legacy large chain id and max value", key: 1, tx: { type: 0, chainId: 4294967295n * 3n, nonce: 1, gasPrice: gwei(3), gasLimit: 21000n, to: keys[0].address, value: maxU256 } },
  { name: "eip1559 chain 1 transfer", key: 0, tx: { type: 2, chainId: 1n, nonce: 0, maxPriorityFeePerGas: gwei(1), maxFeePerGas: gwei(30), gasLimit: 21000n, to: keys[1].address, value: ethers.parseEther("0.5") } },
  { name: "eip1559 chain 901 zero value", key: 2, tx: { type: 2, chainId: 901n, nonce: 42, maxPriorityFeePerGas: 0n, maxFeePerGas: 7n, gasLimit: 21000n, to: keys[3].address, value: 0n } },
  { name: "eip1559 chain 901 value 1 nonce 2^32", key: 3, tx: { type: 2, chainId: 901n, nonce: 4294967296, maxPriorityFeePerGas: gwei(2), maxFeePerGas: gwei(100), gasLimit: 50000n, to: keys[2].address, value: 1n } },
  { name: "eip1559 erc20 transfer call with data", key: 1, tx: { type: 2, chainId: 31337n, nonce: 9, maxPriorityFeePerGas: gwei(1), maxFeePerGas: gwei(2), gasLimit: 60000n, to: "0x5FbDB2315678afecb367f032d93F642f64180aa3", value: 0n,
      data: new ethers.Interface(["function transfer(address to, uint256 amount)"]).encodeFunctionData("transfer", [keys[2].address, 10n ** 21n]) } },
  { name: "eip1559 contract creation", key: 0, tx: { type: 2, chainId: 901n, nonce: 1, maxPriorityFeePerGas: gwei(1), maxFeePerGas: gwei(10), gasLimit: 2000000n, to: null, value: 0n, data: "0x" + "60".repeat(300) } },
  { name: "eip1559 with access list", key: 2, tx: { type: 2, chainId: 1n, nonce: 5, maxPriorityFeePerGas: gwei(2), maxFeePerGas: gwei(40), gasLimit: 100000n, to: keys[0].address, value: 100n,
      accessList: [
        { address: "0x5FbDB2315678afecb367f032d93F642f64180aa3", storageKeys: [ethers.zeroPadValue("0x01", 32), ethers.keccak256("0x1234")] },
        { address: keys[3].address, storageKeys: [] },
      ] } },
  { name: "eip1559 max value large gas", key: 3, tx: { type: 2, chainId: 17000n, nonce: 0, maxPriorityFeePerGas: 1n, maxFeePerGas: gwei(1000), gasLimit: 30000000n, to: keys[1].address, value: maxU256 } },
  { name: "eip1559 long calldata (long-form rlp)", key: 1, tx: { type: 2, chainId: 901n, nonce: 11, maxPriorityFeePerGas: 1n, maxFeePerGas: 2n, gasLimit: 400000n, to: keys[0].address, value: 0n, data: ethers.hexlify(Uint8Array.from({ length: 1500 }, (_, i) => (i * 31 + 7) & 255)) } },
];

const out = [];
for (const c of cases) {
  const wallet = keys[c.key];
  const tx = ethers.Transaction.from(c.tx);
  const signingHash = tx.unsignedHash;
  tx.signature = wallet.signingKey.sign(signingHash);
  const parsed = ethers.Transaction.from(tx.serialized);
  if (parsed.from !== wallet.address) throw new Error(`sender mismatch in ${c.name}`);
  out.push({
    name: c.name,
    type: tx.type,
    chainId: tx.chainId.toString(),
    nonce: tx.nonce,
    gasPrice: tx.type === 0 ? tx.gasPrice.toString() : null,
    maxPriorityFeePerGas: tx.type === 2 ? tx.maxPriorityFeePerGas.toString() : null,
    maxFeePerGas: tx.type === 2 ? tx.maxFeePerGas.toString() : null,
    gasLimit: tx.gasLimit.toString(),
    to: tx.to,
    value: tx.value.toString(),
    data: tx.data,
    accessList: tx.type === 2 ? tx.accessList.map((e) => ({ address: e.address, storageKeys: e.storageKeys })) : null,
    v: tx.signature.v,
    networkV: parsed.signature.networkV === null ? null : parsed.signature.networkV.toString(),
    yParity: tx.signature.yParity,
    r: tx.signature.r,
    s: tx.signature.s,
    privateKey: wallet.privateKey,
    from: wallet.address,
    signingHash,
    hash: parsed.hash,
    raw: tx.serialized,
  });
}
process.stdout.write(JSON.stringify({ generator: `ethers ${ethers.version}`, transactions: out }, null, 2) + "\n");
