#!/usr/bin/env node
// Compatibility check with the real SUAVE client library: drives a running kettle with
// @flashbots/suave-viem 1.15.1 the way a SUAPP developer would (see README.md).
//
//   KETTLE_RPC=http://127.0.0.1:8545 node compat.mjs
//
// Environment:
//   KETTLE_RPC          JSON-RPC URL of the kettle (default http://127.0.0.1:8545)
//   COMPAT_PRIVATE_KEY  funded key that signs everything (default: the dev user key)
//   COMPAT_KETTLE       kettle address eth_kettleAddress must return first (default: the dev
//                       kettle 0xB5fE…BB7F; empty: accept any)
//   COMPAT_TIMEOUT_MS   bound on the whole run (default 120000)
//
// Prints one line per step; exits 0 when every check passed, 1 on the first mismatch
// (with the reason), 2 when the dependencies are missing.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const repoRoot = path.resolve(here, '../..')

let sv, svChains, svUtils, svAccounts, viem2
try {
  sv = await import('@flashbots/suave-viem')
  svChains = await import('@flashbots/suave-viem/chains')
  svUtils = await import('@flashbots/suave-viem/chains/utils')
  svAccounts = await import('@flashbots/suave-viem/accounts')
  viem2 = await import('viem') // plain upstream viem 2, for the "standard client" check
} catch (e) {
  console.error(`compat: cannot load @flashbots/suave-viem / viem (${e.message}); run \`npm ci\` in ${here}`)
  process.exit(2)
}

const {
  http,
  keccak256,
  toRlp,
  stringToHex,
  hexToBigInt,
  numberToHex,
  concat,
  hashTypedData,
  recoverAddress,
  encodeFunctionData,
  decodeFunctionResult,
  decodeEventLog,
  isAddressEqual,
  getAddress,
  formatGwei,
  formatEther,
} = sv
const { suaveRigil } = svChains
const { getSuaveProvider, getSuaveWallet, serializeConfidentialComputeRecord, serializeConfidentialComputeRequest } =
  svUtils

// ---------------------------------------------------------------------------
// settings
// ---------------------------------------------------------------------------
const RPC = process.env.KETTLE_RPC || 'http://127.0.0.1:8545'
const EXPECT_KETTLE = process.env.COMPAT_KETTLE ?? '0xB5fEAfbDD752ad52Afb7e1bD2E40432A485bBB7F'
const PRIVATE_KEY =
  process.env.COMPAT_PRIVATE_KEY || '0x91ab9a7e53c220e6210460b65a7a3bb2ca181412a8a7b43ff336b3df1737ce12'
const TOTAL_TIMEOUT_MS = Number(process.env.COMPAT_TIMEOUT_MS || 120_000)
const RPC_TIMEOUT_MS = 15_000
const RECEIPT_TIMEOUT_MS = 30_000
const POLL_MS = 100 // receipt polling (suave-viem's default is 4 s)
const GAS = 1_000_000n // CCR gas limit (suave-viem would otherwise default to 30M with a warning)
const NAME = 'Ada Lovelace' // the confidential input
const NAME_PLAIN = 'Grace Hopper' // the confidential input of the plain-signed request
const EMPTY_INPUTS_HASH = keccak256('0x')

const startedAt = Date.now()
const watchdog = setTimeout(() => {
  console.error(`compat: FAIL while ${doing}: the run did not finish within ${TOTAL_TIMEOUT_MS} ms (COMPAT_TIMEOUT_MS)`)
  process.exit(1)
}, TOTAL_TIMEOUT_MS)

// ---------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------
class Mismatch extends Error {}
const fail = (msg) => {
  throw new Mismatch(msg)
}
const check = (cond, msg) => {
  if (!cond) fail(msg)
}
const eq = (got, want, what) => {
  const norm = (x) => (typeof x === 'string' ? x.toLowerCase() : x)
  if (norm(got) !== norm(want)) fail(`${what}: got ${fmt(got)}, want ${fmt(want)}`)
}
const fmt = (x) => (typeof x === 'bigint' ? `${x}n` : JSON.stringify(x))
const ms = () => `${((Date.now() - startedAt) / 1000).toFixed(1)}s`
let stepNo = 0
let doing = 'loading' // what the run is doing, for the failure message
const step = (msg) => console.log(`compat: [${String(++stepNo).padStart(2)}] ${ms().padStart(5)} ${msg}`)
const info = (msg) => console.log(`compat:            ${msg}`)

/** Minimal big-endian hex as RLP carries integers ('0x' for zero). */
const rlpInt = (x) => {
  const n = typeof x === 'bigint' ? x : hexToBigInt(x)
  return n === 0n ? '0x' : numberToHex(n)
}
/** The 13 record items of §1.2, from the RPC JSON of a requestRecord. */
const recordItems = (rec, isEIP712) => [
  rlpInt(rec.nonce),
  rlpInt(rec.gasPrice),
  rlpInt(rec.gas),
  rec.to ?? '0x',
  rlpInt(rec.value),
  rec.input,
  rec.kettleAddress,
  rec.confidentialInputsHash,
  isEIP712 ? '0x01' : '0x',
  rlpInt(rec.chainId),
  rlpInt(rec.v),
  rlpInt(rec.r),
  rlpInt(rec.s),
]
/** The signature digest of a confidential record (EIP-712 §1.7 or plain §1.6). */
const recordDigest = (rec, isEIP712) => {
  if (isEIP712) {
    return hashTypedData({
      domain: { name: 'ConfidentialRecord', verifyingContract: rec.kettleAddress },
      types: {
        ConfidentialRecord: [
          { name: 'nonce', type: 'uint64' },
          { name: 'gasPrice', type: 'uint256' },
          { name: 'gas', type: 'uint64' },
          { name: 'to', type: 'address' },
          { name: 'value', type: 'uint256' },
          { name: 'data', type: 'bytes' },
          { name: 'kettleAddress', type: 'address' },
          { name: 'confidentialInputsHash', type: 'bytes32' },
        ],
      },
      primaryType: 'ConfidentialRecord',
      message: {
        nonce: hexToBigInt(rec.nonce),
        gasPrice: hexToBigInt(rec.gasPrice),
        gas: hexToBigInt(rec.gas),
        to: rec.to,
        value: hexToBigInt(rec.value),
        data: rec.input,
        kettleAddress: rec.kettleAddress,
        confidentialInputsHash: rec.confidentialInputsHash,
      },
    })
  }
  return keccak256(
    serializeConfidentialComputeRecord({
      type: '0x42',
      nonce: Number(hexToBigInt(rec.nonce)),
      gasPrice: hexToBigInt(rec.gasPrice),
      gas: hexToBigInt(rec.gas),
      to: rec.to,
      value: hexToBigInt(rec.value),
      data: rec.input,
      kettleAddress: rec.kettleAddress,
      confidentialInputsHash: rec.confidentialInputsHash,
      chainId: Number(hexToBigInt(rec.chainId)),
    }),
  )
}
/** r ‖ s ‖ yParity of a JSON object's v/r/s, for recoverAddress. */
const sig65 = (o) =>
  concat([
    numberToHex(hexToBigInt(o.r), { size: 32 }),
    numberToHex(hexToBigInt(o.s), { size: 32 }),
    hexToBigInt(o.v) === 0n ? '0x00' : '0x01',
  ])

// ---------------------------------------------------------------------------
// the flow
// ---------------------------------------------------------------------------
async function main() {
  const artifactPath = path.join(repoRoot, 'contracts/out/Hello.json')
  const hello = JSON.parse(fs.readFileSync(artifactPath, 'utf8'))
  check(hello.abi && hello.bytecode?.startsWith('0x'), `${artifactPath}: no abi/bytecode`)

  const version = JSON.parse(
    fs.readFileSync(path.join(here, 'node_modules/@flashbots/suave-viem/package.json'), 'utf8'),
  ).version
  eq(version, '1.15.1', '@flashbots/suave-viem version')

  // The SUAPP developer's two objects (suave-viem's README / examples).
  const transport = () => http(RPC, { timeout: RPC_TIMEOUT_MS, retryCount: 0 })
  const provider = getSuaveProvider(transport(), suaveRigil)
  const wallet = getSuaveWallet({ transport: transport(), privateKey: PRIVATE_KEY, chain: suaveRigil })
  const user = wallet.account.address
  console.log(`compat: @flashbots/suave-viem ${version} against ${RPC}`)

  // 1. chain id
  doing = `reading eth_chainId from ${RPC}`
  const chainId = await provider.getChainId()
  eq(chainId, suaveRigil.id, 'eth_chainId (suave-viem suaveRigil id)')
  step(`eth_chainId = ${chainId} (suaveRigil)`)

  // 2. kettle address (suave-viem has no helper: the provider's raw request)
  doing = 'reading eth_kettleAddress'
  const kettles = await provider.request({ method: 'eth_kettleAddress', params: [] })
  check(Array.isArray(kettles) && kettles.length > 0, `eth_kettleAddress: want a non-empty array, got ${fmt(kettles)}`)
  const kettle = getAddress(kettles[0])
  if (EXPECT_KETTLE) eq(kettle, EXPECT_KETTLE, 'eth_kettleAddress[0] (COMPAT_KETTLE)')
  step(`eth_kettleAddress = ${kettle}`)

  // 3. balance and fees
  doing = 'reading the balance, head block and gas price'
  const balance = await provider.getBalance({ address: user })
  check(balance > 10n ** 17n, `user ${user} balance ${formatEther(balance)} ETH is too low`)
  const head = await provider.getBlock()
  const gasPriceRpc = await provider.getGasPrice()
  check(head.baseFeePerGas !== null && head.baseFeePerGas !== undefined, 'head block has no baseFeePerGas')
  // Requests pay eth_gasPrice (what suave-viem's wallet fills in by itself) when it covers the
  // head's base fee, else twice the base fee (the next block's is at most 12.5% higher).
  const gasPrice = gasPriceRpc > head.baseFeePerGas ? gasPriceRpc : head.baseFeePerGas * 2n
  step(
    `user ${user} balance ${formatEther(balance)} ETH; head #${head.number} base fee ` +
      `${formatGwei(head.baseFeePerGas)} gwei, eth_gasPrice ${formatGwei(gasPriceRpc)} gwei`,
  )

  // 4. deploy Hello with a normal (EIP-1559) transaction
  doing = 'deploying Hello (wallet.deployContract)'
  const deployHash = await wallet.deployContract({ abi: hello.abi, bytecode: hello.bytecode })
  const deployReceipt = await provider.waitForTransactionReceipt({
    hash: deployHash,
    timeout: RECEIPT_TIMEOUT_MS,
    pollingInterval: POLL_MS,
  })
  eq(deployReceipt.status, 'success', 'deploy receipt status')
  check(deployReceipt.contractAddress, 'deploy receipt has no contractAddress')
  const helloAddr = getAddress(deployReceipt.contractAddress)
  const code = await provider.getBytecode({ address: helloAddr })
  eq(code, hello.deployedBytecode, 'eth_getCode of the deployed Hello')
  step(`deployed Hello at ${helloAddr} (tx ${deployHash}, block ${deployReceipt.blockNumber}, gas ${deployReceipt.gasUsed})`)

  const helloData = encodeFunctionData({ abi: hello.abi, functionName: 'hello' })
  const expectCallback = (name) => encodeFunctionData({ abi: hello.abi, functionName: 'callback', args: [`hello, ${name}`] })

  // 5. confidential eth_call
  await confidentialCall({ provider, hello, helloAddr, helloData, kettle, user, gasPrice, expectCallback })

  let lastCcr
  // 6. confidential compute request, EIP-712 signed by the suave-viem wallet (its default)
  doing = 'sending the EIP-712 CCR (wallet.sendTransaction)'
  const nonceBefore = await provider.getTransactionCount({ address: user })
  const hash = await wallet.sendTransaction({
    to: helloAddr,
    data: helloData,
    confidentialInputs: stringToHex(NAME),
    kettleAddress: kettle,
    gasPrice,
    gas: GAS,
  })
  check(/^0x[0-9a-f]{64}$/i.test(hash), `eth_sendRawTransaction returned ${fmt(hash)}, not a hash`)
  step(`CCR (0x43, EIP-712) with confidentialInputs "${NAME}" sent by getSuaveWallet().sendTransaction -> ${hash}`)

  await checkSuaveTx({
    provider,
    hello,
    hash,
    helloAddr,
    helloData,
    kettle,
    user,
    gasPrice,
    nonce: nonceBefore,
    name: NAME,
    isEIP712: true,
    expectCallback,
  })

  // 7. a plain-signed (isEIP712=false) CCR built from suave-viem's lower-level pieces
  //    (the wallet's own plain mode writes a wrong v half the time in 1.15.1)
  {
    doing = 'sending the plain-signed CCR (eth_sendRawTransaction)'
    const nonce = await provider.getTransactionCount({ address: user })
    const confidentialInputs = stringToHex(NAME_PLAIN)
    const fields = {
      nonce,
      gasPrice,
      gas: GAS,
      to: helloAddr,
      value: 0n,
      data: helloData,
      kettleAddress: kettle,
      confidentialInputsHash: keccak256(confidentialInputs),
      chainId: suaveRigil.id,
    }
    const digest = keccak256(serializeConfidentialComputeRecord({ ...fields, type: '0x42' }))
    const sig = await svAccounts.sign({ hash: digest, privateKey: PRIVATE_KEY })
    const raw = serializeConfidentialComputeRequest({
      ...fields,
      type: '0x43',
      confidentialInputs,
      isEIP712: false,
      v: sig.v - 27n,
      r: sig.r,
      s: sig.s,
    })
    const parsed = svUtils.parseTransactionSuave(raw)
    eq(parsed.type, '0x43', 'parseTransactionSuave(raw).type')
    const hashPlain = await provider.request({ method: 'eth_sendRawTransaction', params: [raw] })
    check(
      hashPlain.toLowerCase() !== keccak256(raw).toLowerCase(),
      'eth_sendRawTransaction returned the 0x43 hash; a kettle returns the hash of the 0x50 it made',
    )
    step(
      `CCR (0x43, plain signature) with confidentialInputs "${NAME_PLAIN}" sent raw -> ${hashPlain} ` +
        `(0x43 hash was ${keccak256(raw)})`,
    )
    check(
      (await provider.request({ method: 'eth_getTransactionByHash', params: [keccak256(raw)] })) === null,
      'the 0x43 hash is known to eth_getTransactionByHash; only the 0x50 goes on chain',
    )
    lastCcr = await checkSuaveTx({
      provider,
      hello,
      hash: hashPlain,
      helloAddr,
      helloData,
      kettle,
      user,
      gasPrice,
      nonce,
      name: NAME_PLAIN,
      isEIP712: false,
      expectCallback,
    })
  }

  // 8. the events through suave-viem's getContractEvents (eth_getLogs)
  doing = 'reading the Greeted events (getContractEvents)'
  const events = await provider.getContractEvents({
    address: helloAddr,
    abi: hello.abi,
    eventName: 'Greeted',
    fromBlock: deployReceipt.blockNumber,
    toBlock: 'latest',
  })
  eq(
    JSON.stringify(events.map((e) => e.args.greeting)),
    JSON.stringify([`hello, ${NAME}`, `hello, ${NAME_PLAIN}`]),
    'Greeted events of Hello (eth_getLogs)',
  )
  step(`getContractEvents(Greeted) = ${events.map((e) => JSON.stringify(e.args.greeting)).join(', ')}`)

  // 9. a standard client (upstream viem 2, no SUAVE formatters) reads the same 0x50 objects
  doing = 'reading the 0x50 transaction with plain viem 2'
  await plainViem({ hello, hash: lastCcr.hash, blockNumber: lastCcr.blockNumber, name: NAME_PLAIN, helloAddr })

  // 10. a request for another kettle is refused, and consumes no nonce
  {
    doing = 'sending a CCR addressed to another kettle'
    const nonce = await provider.getTransactionCount({ address: user })
    const other = '0x000000000000000000000000000000000000dEaD'
    let refused
    try {
      await wallet.sendTransaction({
        to: helloAddr,
        data: helloData,
        confidentialInputs: stringToHex(NAME),
        kettleAddress: other,
        gasPrice,
        gas: GAS,
      })
    } catch (e) {
      refused = e
    }
    check(refused, `a CCR addressed to kettle ${other} was accepted`)
    eq(await provider.getTransactionCount({ address: user }), nonce, 'nonce after the refused CCR')
    step(`CCR addressed to ${other} refused: ${oneLine(refused)}`)
  }

  console.log(`compat: all checks passed in ${ms()}`)
}

const oneLine = (e) => (e?.details || e?.shortMessage || e?.message || String(e)).split('\n')[0]

async function confidentialCall({ provider, hello, helloAddr, helloData, kettle, user, gasPrice, expectCallback }) {
  const want = expectCallback(NAME)
  const encodeHelloResult = (bytes) =>
    sv.encodeFunctionResult({ abi: hello.abi, functionName: 'hello', result: bytes }).toLowerCase()
  // Outside confidential mode hello() reverts; suave-viem decodes the kettle's revert data.
  doing = 'calling hello() with a plain eth_call'
  let plain
  try {
    await provider.readContract({ address: helloAddr, abi: hello.abi, functionName: 'hello', account: user })
  } catch (e) {
    plain = e
  }
  check(plain, 'plain eth_call of hello() did not revert (isConfidential must be false outside the MEVM)')
  const reverted = plain.walk?.((c) => c?.name === 'ContractFunctionRevertedError')
  eq(reverted?.data?.errorName, 'NotConfidential', 'revert error of a plain eth_call of hello(), decoded by suave-viem')
  step('plain eth_call hello() (provider.readContract) reverts with NotConfidential()')

  // suave-viem 1.15.1 has no confidential call: its call action keeps only the keys its
  // transactionRequest formatter knows, so provider.call({..., confidentialInputs, kettleAddress})
  // has its confidential fields dropped and never sets isConfidential; the node sees a plain
  // eth_call. Shown as information, not checked.
  doing = 'calling hello() with a confidential eth_call'
  let viaCall
  try {
    const r = await provider.call({
      account: user,
      to: helloAddr,
      data: helloData,
      gas: GAS,
      gasPrice,
      chainId: suaveRigil.id,
      kettleAddress: kettle,
      confidentialInputs: stringToHex(NAME),
    })
    viaCall = r.data?.toLowerCase() === encodeHelloResult(want) ? 'ran confidentially' : `returned ${r.data}`
  } catch (e) {
    const data = e.walk?.((c) => typeof c?.data === 'string')?.data
    let why = oneLine(e)
    try {
      why = `${sv.decodeErrorResult({ abi: hello.abi, data }).errorName}()`
    } catch {}
    viaCall = `went out as a plain eth_call (suave-viem drops the confidential fields) and reverted with ${why}`
  }
  // ... so the confidential call goes through the provider's request, with the reference's
  // extra arguments (§7.1): isConfidential, kettleAddress, confidentialInputs.
  const ret = await provider.request({
    method: 'eth_call',
    params: [
      {
        from: user,
        to: helloAddr,
        data: helloData,
        gas: numberToHex(GAS),
        gasPrice: numberToHex(gasPrice),
        isConfidential: true,
        kettleAddress: kettle,
        confidentialInputs: stringToHex(NAME),
      },
      'latest',
    ],
  })
  const decoded = decodeFunctionResult({ abi: hello.abi, functionName: 'hello', data: ret })
  eq(decoded, want, 'confidential eth_call of hello() (decoded bytes)')
  step(`confidential eth_call hello() via provider.request(isConfidential) = callback("hello, ${NAME}")`)
  info(`(provider.call({..., kettleAddress, confidentialInputs}) ${viaCall})`)
}

async function checkSuaveTx({
  provider,
  hello,
  hash,
  helloAddr,
  helloData,
  kettle,
  user,
  gasPrice,
  nonce,
  name,
  isEIP712,
  expectCallback,
}) {
  const confidentialInputs = stringToHex(name)
  const callback = expectCallback(name)

  // receipt, through suave-viem's provider (chain formatters for suaveRigil)
  doing = `waiting for the receipt of ${hash}`
  const receipt = await provider.waitForTransactionReceipt({
    hash,
    timeout: RECEIPT_TIMEOUT_MS,
    pollingInterval: POLL_MS,
  })
  eq(receipt.transactionHash, hash, 'receipt.transactionHash')
  eq(receipt.status, 'success', 'receipt.status')
  eq(receipt.type, '0x50', 'receipt.type')
  check(isAddressEqual(receipt.from, user), `receipt.from ${receipt.from} is not the user ${user}`)
  check(receipt.to && isAddressEqual(receipt.to, helloAddr), `receipt.to ${receipt.to} is not Hello ${helloAddr}`)
  const greeted = receipt.logs
    .filter((l) => isAddressEqual(l.address, helloAddr))
    .map((l) => decodeEventLog({ abi: hello.abi, data: l.data, topics: l.topics }))
  eq(greeted.length, 1, 'Greeted logs in the receipt')
  eq(greeted[0].eventName, 'Greeted', 'receipt log event')
  eq(greeted[0].args.greeting, `hello, ${name}`, 'Greeted(greeting)')
  step(
    `receipt: block ${receipt.blockNumber}, type ${receipt.type}, status ${receipt.status}, ` +
      `Greeted("${greeted[0].args.greeting}")`,
  )

  // transaction, through suave-viem's provider (its 0x50 formatter)
  doing = `reading the 0x50 transaction ${hash}`
  const tx = await provider.getTransaction({ hash })
  eq(tx.type, '0x50', 'getTransaction().type')
  eq(tx.hash, hash, 'getTransaction().hash')
  eq(tx.blockNumber, receipt.blockNumber, 'getTransaction().blockNumber')
  check(isAddressEqual(tx.from, user), `0x50 from ${tx.from} is not the user ${user}`)
  eq(tx.chainId, suaveRigil.id, '0x50 chainId')
  eq(tx.confidentialComputeResult, callback, '0x50 confidentialComputeResult')
  eq(tx.input, callback, '0x50 input (= confidentialComputeResult)')
  eq(tx.nonce, nonce, '0x50 nonce')
  eq(tx.gasPrice, gasPrice, '0x50 gasPrice')
  const rr = tx.requestRecord
  check(rr, '0x50 has no requestRecord')
  eq(rr.type, '0x42', 'requestRecord.type')
  check(isAddressEqual(rr.kettleAddress, kettle), `requestRecord.kettleAddress ${rr.kettleAddress} is not ${kettle}`)
  eq(rr.confidentialInputsHash, keccak256(confidentialInputs), 'requestRecord.confidentialInputsHash')
  check(rr.confidentialInputsHash !== EMPTY_INPUTS_HASH, 'requestRecord.confidentialInputsHash is the empty hash')
  eq(rr.input, helloData, 'requestRecord.input')
  check(rr.to && isAddressEqual(rr.to, helloAddr), `requestRecord.to ${rr.to} is not Hello`)
  eq(rr.nonce, nonce, 'requestRecord.nonce')
  eq(rr.gas, GAS, 'requestRecord.gas')
  eq(rr.gasPrice, gasPrice, 'requestRecord.gasPrice')
  eq(rr.chainId, suaveRigil.id, 'requestRecord.chainId')

  // the raw JSON: hashes recomputed from it, signatures recovered, no confidential inputs
  const raw = await provider.request({ method: 'eth_getTransactionByHash', params: [hash] })
  check(
    !('confidentialInputs' in raw) && !('confidentialInputs' in raw.requestRecord),
    '0x50 JSON carries confidentialInputs',
  )
  const rec = raw.requestRecord
  const items = recordItems(rec, isEIP712)
  eq(rec.hash, keccak256(concat(['0x42', toRlp(items)])), 'requestRecord.hash = keccak(0x42 || rlp(record))')
  const suaveTx = [items, raw.confidentialComputeResult, rlpInt(raw.chainId), rlpInt(raw.v), rlpInt(raw.r), rlpInt(raw.s)]
  const txHash = keccak256(concat(['0x50', toRlp(suaveTx)]))
  eq(raw.hash, txHash, '0x50 hash = keccak(0x50 || rlp([record, result, chainId, v, r, s]))')
  const rDigest = recordDigest(rec, isEIP712)
  const signer = await recoverAddress({ hash: rDigest, signature: sig65(rec) })
  check(isAddressEqual(signer, user), `the request record recovers to ${signer}, not the user ${user}`)
  const kDigest = keccak256(concat(['0x50', toRlp([rDigest, raw.confidentialComputeResult])]))
  const kSigner = await recoverAddress({ hash: kDigest, signature: sig65(raw) })
  check(isAddressEqual(kSigner, kettle), `the 0x50 kettle signature recovers to ${kSigner}, not the kettle ${kettle}`)
  step(
    `getTransaction: type 0x50 from the user, requestRecord (0x42, ${isEIP712 ? 'EIP-712' : 'plain'}) + ` +
      'confidentialComputeResult; hashes recomputed, user and kettle signatures recover',
  )

  doing = `reading block ${receipt.blockNumber} with its transactions`
  // the block, with full transactions, through suave-viem's block formatter
  const block = await provider.getBlock({ blockNumber: receipt.blockNumber, includeTransactions: true })
  const inBlock = block.transactions.find((t) => t.hash.toLowerCase() === hash.toLowerCase())
  check(inBlock, `block ${receipt.blockNumber} does not list ${hash}`)
  eq(inBlock.type, '0x50', 'block transaction type')
  eq(inBlock.confidentialComputeResult, callback, 'block transaction confidentialComputeResult')
  return { hash, blockNumber: receipt.blockNumber }
}

async function plainViem({ hello, hash, blockNumber, name, helloAddr }) {
  const version = JSON.parse(fs.readFileSync(path.join(here, 'node_modules/viem/package.json'), 'utf8')).version
  const client = viem2.createPublicClient({ transport: viem2.http(RPC, { timeout: RPC_TIMEOUT_MS, retryCount: 0 }) })
  eq(await client.getChainId(), suaveRigil.id, 'viem 2 getChainId')
  const receipt = await client.getTransactionReceipt({ hash })
  eq(receipt.status, 'success', 'viem 2 receipt.status')
  const logs = viem2.parseEventLogs({ abi: hello.abi, logs: receipt.logs, eventName: 'Greeted' })
  eq(logs.length, 1, 'viem 2 Greeted logs')
  check(viem2.isAddressEqual(logs[0].address, helloAddr), 'viem 2 Greeted log address')
  eq(logs[0].args.greeting, `hello, ${name}`, 'viem 2 Greeted(greeting)')
  const tx = await client.getTransaction({ hash })
  eq(tx.hash, hash, 'viem 2 getTransaction().hash')
  eq(tx.typeHex, '0x50', 'viem 2 getTransaction().typeHex')
  const block = await client.getBlock({ blockNumber, includeTransactions: true })
  check(
    block.transactions.some((t) => t.hash.toLowerCase() === hash.toLowerCase()),
    `viem 2 getBlock(${blockNumber}) does not list ${hash}`,
  )
  step(`viem ${version} (no SUAVE formatters) reads the 0x50 receipt, transaction and block #${blockNumber}`)
}

try {
  await main()
  clearTimeout(watchdog)
  process.exit(0)
} catch (e) {
  clearTimeout(watchdog)
  if (e instanceof Mismatch) {
    console.error(`compat: FAIL while ${doing}: ${e.message}`)
  } else {
    console.error(`compat: FAIL while ${doing}: ${e?.shortMessage || e?.message || e}`)
    if (e?.details) console.error(`compat:   details: ${e.details}`)
    if (e?.stack && process.env.COMPAT_DEBUG) console.error(e.stack)
  }
  process.exit(1)
}
