// Compiles every Solidity file under contracts/src, contracts/test and suapps/ in one solc standard-JSON run and
// writes one artifact per contract to contracts/out/<ContractName>.json.
//
//   node contracts/build.mjs           write/refresh contracts/out (removes artifacts of contracts
//                                      that no longer exist)
//   node contracts/build.mjs --check   compile, compare with contracts/out, exit 1 if it is stale
//
// Normally run through scripts/contracts, which installs the pinned solc first. See README.md.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** Exact solc-js release this project compiles with (also pinned in package.json). */
const SOLC_VERSION = '0.8.37';
/** SUAVE chain opcodes are Shanghai's (no Cancun opcodes such as TSTORE/MCOPY/BLOBHASH). */
const EVM_VERSION = 'shanghai';
const OPTIMIZER = { enabled: true, runs: 200 };
/** Import prefix for the Suave library: `import {Suave} from "suave/Suave.sol";`. */
const REMAPPINGS = ['suave/=contracts/src/'];
/** Trees scanned for .sol files, relative to the repository root. */
const SOURCE_DIRS = ['contracts/src', 'contracts/test', 'suapps'];
const SKIP_DIRS = new Set(['node_modules', 'out']);

/**
 * Warnings that are known and accepted, each limited to one file. The upstream struct fields
 * `HttpResponse.error` and `SimulateTransactionResult.error` must keep their names (they are part
 * of the ABI SUAPPs compile against), although solc warns that `error` will become a keyword.
 */
const EXPECTED_WARNINGS = [
  { file: 'contracts/src/Suave.sol', message: '"error" will be promoted to keyword' },
];

function isExpectedWarning(d) {
  return EXPECTED_WARNINGS.some(
    (w) => d.sourceLocation?.file === w.file && d.message.includes(w.message),
  );
}

const contractsDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.dirname(contractsDir);
const outDir = path.join(contractsDir, 'out');

function fail(message) {
  process.stderr.write(`contracts: ${message}\n`);
  process.exit(1);
}

function usage(code) {
  const text = 'usage: scripts/contracts [--check]\n' +
    '  (no flag)  compile contracts/src, contracts/test and suapps/ into contracts/out/<Contract>.json\n' +
    '  --check    compile into a temporary directory and fail if contracts/out differs\n';
  (code === 0 ? process.stdout : process.stderr).write(text);
  process.exit(code);
}

/** Repository-relative paths (forward slashes) of all .sol files, in byte order. */
function findSources() {
  const found = [];
  const walk = (rel) => {
    const abs = path.join(repoRoot, rel);
    if (!fs.existsSync(abs)) return;
    for (const entry of fs.readdirSync(abs, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const child = `${rel}/${entry.name}`;
      if (entry.isDirectory()) {
        if (!SKIP_DIRS.has(entry.name)) walk(child);
      } else if (entry.isFile() && entry.name.endsWith('.sol')) {
        found.push(child);
      }
    }
  };
  SOURCE_DIRS.forEach(walk);
  return found.sort();
}

/** Recursively sorts object keys so JSON output does not depend on compiler emission order. */
function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const sorted = {};
    for (const key of Object.keys(value).sort()) sorted[key] = sortKeys(value[key]);
    return sorted;
  }
  return value;
}

function loadSolc() {
  let solc;
  try {
    solc = require('solc');
  } catch (err) {
    fail(`cannot load solc (${err.message}); run scripts/contracts, which installs it with npm ci`);
  }
  const long = solc.version();
  if (!long.startsWith(`${SOLC_VERSION}+`)) {
    fail(`expected solc ${SOLC_VERSION}, found ${long}; run npm ci in contracts/`);
  }
  // Drop the platform suffix (".Emscripten.clang") so the recorded version is the release id.
  return { solc, version: long.replace(/\.Emscripten\.clang$/, '') };
}

/** Collects contract kinds ("contract", "abstract contract", "interface", "library") from the ASTs. */
function contractKinds(output) {
  const kinds = new Map();
  for (const [source, { ast }] of Object.entries(output.sources ?? {})) {
    for (const node of ast?.nodes ?? []) {
      if (node.nodeType !== 'ContractDefinition') continue;
      const kind = node.abstract ? `abstract ${node.contractKind}` : node.contractKind;
      kinds.set(`${source}:${node.name}`, kind);
    }
  }
  return kinds;
}

/** Compiles all sources and returns Map<fileName, fileContent> of the artifacts. */
function compile() {
  const { solc, version } = loadSolc();
  const files = findSources();
  if (files.length === 0) fail(`no .sol files under ${SOURCE_DIRS.join(', ')}`);

  const sources = {};
  for (const file of files) {
    sources[file] = { content: fs.readFileSync(path.join(repoRoot, file), 'utf8') };
  }
  const input = {
    language: 'Solidity',
    sources,
    settings: {
      evmVersion: EVM_VERSION,
      optimizer: OPTIMIZER,
      remappings: REMAPPINGS,
      // Keep the swarm/IPFS hash of the metadata out of the bytecode: comment-only edits do not
      // churn the artifacts. The CBOR trailer still records the compiler version.
      metadata: { bytecodeHash: 'none' },
      outputSelection: {
        '*': {
          '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'],
          '': ['ast'],
        },
      },
    },
  };

  // Every .sol file in the scanned trees is already an input, so the callback only runs for an
  // import that points elsewhere: refuse it with a message that names the convention.
  const findImports = (importPath) => {
    if (SOURCE_DIRS.some((dir) => importPath.startsWith(`${dir}/`))) {
      return { error: `no such file: ${importPath}` };
    }
    return {
      error: `"${importPath}" is not under ${SOURCE_DIRS.join(' or ')}; import the Suave library as ` +
        '"suave/Suave.sol" and keep everything else inside those trees (relative imports work)',
    };
  };

  const started = process.hrtime.bigint();
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;

  const diagnostics = output.errors ?? [];
  const errors = diagnostics.filter((d) => d.severity === 'error');
  let expected = 0;
  for (const d of diagnostics.filter((d) => d.severity !== 'error')) {
    if (isExpectedWarning(d)) expected += 1;
    else process.stderr.write(`${d.formattedMessage ?? d.message}\n`);
  }
  if (expected > 0) {
    process.stderr.write(`contracts: ${expected} expected warning(s) not shown (see EXPECTED_WARNINGS)\n`);
  }
  if (errors.length > 0) {
    for (const d of errors) process.stderr.write(`${d.formattedMessage ?? d.message}\n`);
    fail(`solc reported ${errors.length} error(s)`);
  }

  const kinds = contractKinds(output);
  const artifacts = new Map();
  const owner = new Map();
  for (const source of Object.keys(output.contracts ?? {}).sort()) {
    for (const [name, contract] of Object.entries(output.contracts[source])) {
      if (owner.has(name)) {
        fail(`contract name ${name} is defined in both ${owner.get(name)} and ${source}; ` +
          'artifacts are named after contracts, so names must be unique');
      }
      owner.set(name, source);
      const bytecode = contract.evm.bytecode.object;
      const deployed = contract.evm.deployedBytecode.object;
      if (bytecode.includes('__$') || deployed.includes('__$')) {
        fail(`${source}:${name} needs library linking; make the library functions it uses internal`);
      }
      const artifact = sortKeys({
        abi: contract.abi,
        bytecode: `0x${bytecode}`,
        compiler: { evmVersion: EVM_VERSION, optimizer: OPTIMIZER, version: `solc-js ${version}` },
        contractName: name,
        deployedBytecode: `0x${deployed}`,
        kind: kinds.get(`${source}:${name}`) ?? 'unknown',
        sourcePath: source,
      });
      artifacts.set(`${name}.json`, `${JSON.stringify(artifact, null, 2)}\n`);
    }
  }
  process.stderr.write(
    `contracts: solc ${version} compiled ${files.length} files into ${artifacts.size} artifacts ` +
    `in ${seconds.toFixed(1)}s\n`,
  );
  return artifacts;
}

function existingArtifacts() {
  if (!fs.existsSync(outDir)) return [];
  return fs.readdirSync(outDir).filter((f) => f.endsWith('.json')).sort();
}

function write(artifacts) {
  fs.mkdirSync(outDir, { recursive: true });
  let written = 0;
  let removed = 0;
  for (const [file, content] of artifacts) {
    const target = path.join(outDir, file);
    if (fs.existsSync(target) && fs.readFileSync(target, 'utf8') === content) continue;
    fs.writeFileSync(target, content);
    written += 1;
    process.stderr.write(`contracts: wrote contracts/out/${file}\n`);
  }
  for (const file of existingArtifacts()) {
    if (!artifacts.has(file)) {
      fs.unlinkSync(path.join(outDir, file));
      removed += 1;
      process.stderr.write(`contracts: removed contracts/out/${file} (no such contract any more)\n`);
    }
  }
  process.stderr.write(
    `contracts: ${written} written, ${artifacts.size - written} unchanged, ${removed} removed\n`,
  );
}

function check(artifacts) {
  const problems = [];
  for (const [file, content] of artifacts) {
    const target = path.join(outDir, file);
    if (!fs.existsSync(target)) problems.push(`missing  contracts/out/${file}`);
    else if (fs.readFileSync(target, 'utf8') !== content) problems.push(`stale    contracts/out/${file}`);
  }
  for (const file of existingArtifacts()) {
    if (!artifacts.has(file)) problems.push(`orphaned contracts/out/${file} (no such contract)`);
  }
  if (problems.length === 0) {
    process.stdout.write(`contracts: contracts/out is up to date (${artifacts.size} artifacts)\n`);
    return;
  }
  const fresh = fs.mkdtempSync(path.join(os.tmpdir(), 'kettle-contracts-'));
  for (const [file, content] of artifacts) fs.writeFileSync(path.join(fresh, file), content);
  process.stderr.write(
    'contracts: contracts/out does not match the Solidity sources:\n' +
    problems.map((p) => `  ${p}\n`).join('') +
    `fresh artifacts: ${fresh} (diff -ru ${outDir} ${fresh})\n` +
    'run scripts/contracts and commit contracts/out\n',
  );
  process.exit(1);
}

const args = process.argv.slice(2);
if (args.includes('-h') || args.includes('--help')) usage(0);
if (args.length > 1 || (args.length === 1 && args[0] !== '--check')) usage(2);
const artifacts = compile();
if (args[0] === '--check') check(artifacts);
else write(artifacts);
