#!/usr/bin/env node
'use strict';
// Generates types/oci.ts from the OCI runtime-spec JSON schema with json-schema-to-typescript.
//
// The schema is read in place from ../shared/oci-runtime-spec-v1.3.0 (never copied into the
// project). Before compiling, this script bundles the schema files into one schema of its own:
// every $ref is followed by hand, every object gets an explicit type name from TYPE_NAMES
// (so no `Device1`/`Mount1` collisions), descriptions are dropped, 64-bit integers become
// `number | bigint`, string maps become `Record<string, string>`, and objects that do not say
// otherwise are closed (`additionalProperties: false`). An object or $ref'd enum without an
// entry in TYPE_NAMES is an error, so a new schema version cannot slip in unnamed types.
//
// Usage: npm run gen:types [-- --schema-dir DIR] [--check]
//   --check  exit 1 if types/oci.ts differs from what would be generated (for CI).

const fs = require('node:fs');
const path = require('node:path');
const { compile } = require('json-schema-to-typescript');

const projectRoot = path.resolve(__dirname, '..');
const outFile = path.join(projectRoot, 'types', 'oci.ts');

function parseArgs(argv) {
  const opts = { schemaDir: path.resolve(projectRoot, '..', 'shared', 'oci-runtime-spec-v1.3.0'), check: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--schema-dir') opts.schemaDir = path.resolve(argv[++i]);
    else if (argv[i] === '--check') opts.check = true;
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  return opts;
}

// Type names, keyed by schema location (`file#json-pointer`). They follow the Go bindings in
// specs-go where those exist, prefixed by platform so that one flat namespace holds them all.
const TYPE_NAMES = {
  // config.json, platform independent
  'config-schema.json#': 'Spec',
  'config-schema.json#/properties/hooks': 'Hooks',
  'config-schema.json#/properties/root': 'Root',
  'config-schema.json#/properties/process': 'Process',
  'config-schema.json#/properties/process/properties/consoleSize': 'Box',
  'config-schema.json#/properties/process/properties/user': 'User',
  'config-schema.json#/properties/process/properties/capabilities': 'LinuxCapabilities',
  'config-schema.json#/properties/process/properties/ioPriority': 'LinuxIOPriority',
  'config-schema.json#/properties/process/properties/ioPriority/properties/class': 'IOPriorityClass',
  'config-schema.json#/properties/process/properties/scheduler': 'Scheduler',
  'config-schema.json#/properties/process/properties/rlimits/items': 'POSIXRlimit',
  'config-schema.json#/properties/process/properties/execCPUAffinity': 'CPUAffinity',
  'defs.json#/definitions/Hook': 'Hook',
  'defs.json#/definitions/IDMapping': 'LinuxIDMapping',
  'defs.json#/definitions/Mount': 'Mount',

  // Linux
  'config-linux.json#/linux': 'Linux',
  'config-linux.json#/linux/properties/resources': 'LinuxResources',
  'config-linux.json#/linux/properties/resources/properties/pids': 'LinuxPids',
  'config-linux.json#/linux/properties/resources/properties/blockIO': 'LinuxBlockIO',
  'config-linux.json#/linux/properties/resources/properties/cpu': 'LinuxCPU',
  'config-linux.json#/linux/properties/resources/properties/hugepageLimits/items': 'LinuxHugepageLimit',
  'config-linux.json#/linux/properties/resources/properties/memory': 'LinuxMemory',
  'config-linux.json#/linux/properties/resources/properties/network': 'LinuxNetwork',
  'config-linux.json#/linux/properties/seccomp': 'LinuxSeccomp',
  'config-linux.json#/linux/properties/intelRdt': 'LinuxIntelRdt',
  'config-linux.json#/linux/properties/memoryPolicy': 'LinuxMemoryPolicy',
  'config-linux.json#/linux/properties/timeOffsets': 'LinuxTimeOffsets',
  'defs-linux.json#/definitions/PersonalityDomain': 'LinuxPersonalityDomain',
  'defs-linux.json#/definitions/Personality': 'LinuxPersonality',
  'defs-linux.json#/definitions/RootfsPropagation': 'LinuxRootfsPropagation',
  'defs-linux.json#/definitions/SeccompArch': 'LinuxSeccompArch',
  'defs-linux.json#/definitions/SeccompAction': 'LinuxSeccompAction',
  'defs-linux.json#/definitions/SeccompFlag': 'LinuxSeccompFlag',
  'defs-linux.json#/definitions/SeccompOperators': 'LinuxSeccompOperator',
  'defs-linux.json#/definitions/SyscallArg': 'LinuxSeccompArg',
  'defs-linux.json#/definitions/Syscall': 'LinuxSyscall',
  'defs-linux.json#/definitions/FileType': 'LinuxDeviceType',
  'defs-linux.json#/definitions/Device': 'LinuxDevice',
  'defs-linux.json#/definitions/NetDevice': 'LinuxNetDevice',
  'defs-linux.json#/definitions/blockIODeviceWeight': 'LinuxWeightDevice',
  'defs-linux.json#/definitions/blockIODeviceThrottle': 'LinuxThrottleDevice',
  'defs-linux.json#/definitions/DeviceCgroup': 'LinuxDeviceCgroup',
  'defs-linux.json#/definitions/MemoryPolicyMode': 'LinuxMemoryPolicyMode',
  'defs-linux.json#/definitions/MemoryPolicyFlag': 'LinuxMemoryPolicyFlag',
  'defs-linux.json#/definitions/NetworkInterfacePriority': 'LinuxInterfacePriority',
  'defs-linux.json#/definitions/Rdma': 'LinuxRdma',
  'defs-linux.json#/definitions/NamespaceType': 'LinuxNamespaceType',
  'defs-linux.json#/definitions/NamespaceReference': 'LinuxNamespace',
  'defs-linux.json#/definitions/TimeOffsets': 'LinuxTimeOffset',
  'defs-linux.json#/definitions/SchedulerPolicy': 'LinuxSchedulerPolicy',
  'defs-linux.json#/definitions/SchedulerFlag': 'LinuxSchedulerFlag',

  // Solaris
  'config-solaris.json#/solaris': 'Solaris',
  'config-solaris.json#/solaris/properties/cappedCPU': 'SolarisCappedCPU',
  'config-solaris.json#/solaris/properties/cappedMemory': 'SolarisCappedMemory',
  'config-solaris.json#/solaris/properties/anet/items': 'SolarisAnet',

  // Windows
  'config-windows.json#/windows': 'Windows',
  'config-windows.json#/windows/properties/resources': 'WindowsResources',
  'config-windows.json#/windows/properties/resources/properties/memory': 'WindowsMemoryResources',
  'config-windows.json#/windows/properties/resources/properties/cpu': 'WindowsCPUResources',
  'config-windows.json#/windows/properties/resources/properties/cpu/properties/affinity': 'WindowsCPUGroupAffinity',
  'config-windows.json#/windows/properties/resources/properties/storage': 'WindowsStorageResources',
  'config-windows.json#/windows/properties/network': 'WindowsNetwork',
  'config-windows.json#/windows/properties/hyperv': 'WindowsHyperV',
  'defs-windows.json#/definitions/Device': 'WindowsDevice',

  // VM
  'config-vm.json#/vm': 'VM',
  'config-vm.json#/vm/properties/hypervisor': 'VMHypervisor',
  'config-vm.json#/vm/properties/kernel': 'VMKernel',
  'config-vm.json#/vm/properties/image': 'VMImage',
  'config-vm.json#/vm/properties/hwConfig': 'VMHWConfig',
  'defs-vm.json#/definitions/RootImageFormat': 'VMImageFormat',
  'defs-vm.json#/definitions/IOMemEntryFormat': 'VMIOMemEntry',

  // z/OS
  'config-zos.json#/zos': 'ZOS',
  'defs-zos.json#/definitions/NamespaceType': 'ZOSNamespaceType',
  'defs-zos.json#/definitions/NamespaceReference': 'ZOSNamespace',

  // FreeBSD
  'config-freebsd.json#/freebsd': 'FreeBSD',
  'config-freebsd.json#/freebsd/properties/jail': 'FreeBSDJail',
  'config-freebsd.json#/freebsd/properties/jail/properties/allow': 'FreeBSDJailAllow',
  'defs-freebsd.json#/definitions/Device': 'FreeBSDDevice',
  'defs-freebsd.json#/definitions/SharingMode': 'FreeBSDSharing',
  'defs-freebsd.json#/definitions/SharingModeNoDisable': 'FreeBSDSharingNoDisable',

  // state.json
  'state-schema.json#': 'State',
  'state-schema.json#/properties/status': 'ContainerState',

  // features.json
  'features-schema.json#': 'Features',
  'features-linux.json#/linux': 'LinuxFeatures',
  'features-linux.json#/linux/properties/cgroup': 'CgroupFeatures',
  'features-linux.json#/linux/properties/seccomp': 'SeccompFeatures',
  'features-linux.json#/linux/properties/apparmor': 'AppArmorFeatures',
  'features-linux.json#/linux/properties/selinux': 'SELinuxFeatures',
  'features-linux.json#/linux/properties/intelRdt': 'IntelRdtFeatures',
  'features-linux.json#/linux/properties/mountExtensions': 'MountExtensionsFeatures',
  'features-linux.json#/linux/properties/mountExtensions/properties/idmap': 'IDMapFeatures',
  'features-linux.json#/linux/properties/netDevices': 'NetDevicesFeatures',
};

// Where a location's schema is replaced outright. Each entry says why.
const OVERRIDES = {
  // JSON.parse turns integers above 2^53 into the nearest double, so callers that need exact
  // 64-bit values pass a bigint.
  'defs.json#/definitions/int64': { tsType: 'number | bigint' },
  'defs.json#/definitions/uint64': { tsType: 'number | bigint' },
  // Device numbers are int64 in the schema, but a Linux dev_t major is 12 bits and a minor 20:
  // they always fit a number, and device code should not have to handle bigint.
  'defs-linux.json#/definitions/Major': { type: 'integer' },
  'defs-linux.json#/definitions/Minor': { type: 'integer' },
  // Terminal rows and columns are 16-bit in the kernel (struct winsize).
  'config-schema.json#/properties/process/properties/consoleSize/properties/height': { type: 'integer' },
  'config-schema.json#/properties/process/properties/consoleSize/properties/width': { type: 'integer' },
  // The schema says /^[cbup]$/; an enum gives the same set a useful type.
  'defs-linux.json#/definitions/FileType': { type: 'string', enum: ['c', 'b', 'u', 'p'] },
  // runc also accepts the recursive forms (its mountPropagationMapping), and so do we.
  'defs-linux.json#/definitions/RootfsPropagation': {
    type: 'string',
    enum: ['private', 'shared', 'slave', 'unbindable', 'rprivate', 'rshared', 'rslave', 'runbindable'],
  },
  // The schema leaves it a free string; config-linux.md allows a (all), b and c only.
  'defs-linux.json#/definitions/DeviceCgroup/properties/type': { type: 'string', enum: ['a', 'b', 'c'] },
  'defs.json#/definitions/mapStringString': { tsType: 'Record<string, string>' },
  // An opaque JSON object passed through to the Windows credential guard.
  'config-windows.json#/windows/properties/credentialSpec': { tsType: 'Record<string, unknown>' },
};

const HEADER = `/* eslint-disable */
/**
 * OCI runtime-spec v1.3.0 types: config.json (\`Spec\`), state.json (\`State\`) and
 * features.json (\`Features\`).
 *
 * GENERATED by \`npm run gen:types\` (scripts/gen-types.js) from the runtime-spec JSON schema.
 * Do not edit by hand: change the script and regenerate.
 *
 * 64-bit integers: fields that the spec declares int64 or uint64 (memory limits, rlimit
 * hard/soft, cpu shares/quota/period, blkio rates, hugetlb and pids limits, seccomp argument
 * values, time offsets...) are typed \`number | bigint\`. JSON numbers above 2^53 lose
 * precision in JSON.parse, so a caller that needs such a value exactly passes a bigint.
 * Where the spec says so (memory limit, reservation and swap, pids limit, cpu quota), -1 means
 * unlimited. Device major/minor numbers and the console size are plain numbers: they always
 * fit.
 *
 * Objects are closed (no index signatures) except the string maps (annotations, sysctl,
 * unified) and the keyed maps (netDevices, rdma). A runtime still ignores unknown properties
 * it reads from a config.json, as the spec requires; the types just do not describe them.
 */
`;

function createBundler(schemaDir) {
  const files = new Map();
  const definitions = {};
  const inProgress = new Set();

  function load(file) {
    if (!files.has(file)) files.set(file, JSON.parse(fs.readFileSync(path.join(schemaDir, file), 'utf8')));
    return files.get(file);
  }

  function lookup(file, pointer) {
    let node = load(file);
    for (const part of pointer.split('/').filter(Boolean)) {
      const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
      if (node === null || typeof node !== 'object' || !(key in node)) {
        throw new Error(`${file}#${pointer}: no such schema location`);
      }
      node = node[key];
    }
    return node;
  }

  // `defs.json` spells one ref `#definitions/uint32`: accept a pointer without its leading slash.
  function resolveRef(ref, fromFile) {
    const hash = ref.indexOf('#');
    const file = hash === 0 ? fromFile : hash < 0 ? ref : ref.slice(0, hash);
    let pointer = hash < 0 ? '' : ref.slice(hash + 1);
    if (pointer && !pointer.startsWith('/')) pointer = `/${pointer}`;
    return { file, pointer };
  }

  // Returns the schema to embed for the node at file#pointer: a $ref to a named definition,
  // or an inline schema.
  function convert(file, pointer) {
    const loc = `${file}#${pointer}`;
    const node = lookup(file, pointer);
    if (node.$ref && !OVERRIDES[loc]) {
      const target = resolveRef(node.$ref, file);
      return convert(target.file, target.pointer);
    }
    const name = TYPE_NAMES[loc];
    if (!name) return build(file, pointer, node, loc);
    if (!definitions[name] && !inProgress.has(name)) {
      inProgress.add(name);
      definitions[name] = { title: name, ...build(file, pointer, node, loc) };
      inProgress.delete(name);
    }
    return { $ref: `#/definitions/${name}` };
  }

  function build(file, pointer, node, loc) {
    if (OVERRIDES[loc]) return { ...OVERRIDES[loc] };
    if (node.anyOf && node.anyOf.length === 1) return convert(file, `${pointer}/anyOf/0`);
    if (node.allOf) return mergeAllOf(file, pointer, node);
    const out = {};
    if (node.enum) {
      if (node.type) out.type = node.type;
      out.enum = [...node.enum];
      return out;
    }
    switch (node.type) {
      case 'object':
        return buildObject(file, pointer, node, loc);
      case 'array':
        // config-vm.json writes `items: [schema]` (draft-04 tuple form) for what is a list.
        if (Array.isArray(node.items)) {
          if (node.items.length !== 1) throw new Error(`${loc}: tuple arrays are not supported`);
          return { type: 'array', items: convert(file, `${pointer}/items/0`) };
        }
        return { type: 'array', items: convert(file, `${pointer}/items`) };
      case 'string':
      case 'integer':
      case 'number':
      case 'boolean':
        return { type: node.type };
      default:
        throw new Error(`${loc}: unsupported schema ${JSON.stringify(Object.keys(node))}`);
    }
  }

  function buildObject(file, pointer, node, loc) {
    if (!node.properties && !node.additionalProperties && !node.patternProperties) {
      throw new Error(`${loc}: an object without properties needs an entry in OVERRIDES`);
    }
    if (!TYPE_NAMES[loc] && node.properties) {
      throw new Error(`${loc}: object type has no name; add it to TYPE_NAMES`);
    }
    const out = { type: 'object' };
    if (node.properties) {
      out.properties = {};
      for (const key of Object.keys(node.properties)) {
        out.properties[key] = convert(file, `${pointer}/properties/${key}`);
      }
    }
    if (node.required) out.required = [...node.required];
    if (node.additionalProperties && typeof node.additionalProperties === 'object') {
      out.additionalProperties = convert(file, `${pointer}/additionalProperties`);
    } else {
      out.additionalProperties = false;
    }
    return out;
  }

  // allOf here only ever composes objects (a base device plus weight or rate): flatten it into
  // one interface instead of an intersection type.
  function mergeAllOf(file, pointer, node) {
    const out = { type: 'object', properties: {}, required: [], additionalProperties: false };
    node.allOf.forEach((_, i) => {
      let partFile = file;
      let partPointer = `${pointer}/allOf/${i}`;
      let part = lookup(partFile, partPointer);
      while (part.$ref) {
        ({ file: partFile, pointer: partPointer } = resolveRef(part.$ref, partFile));
        part = lookup(partFile, partPointer);
      }
      if (part.type !== 'object' || !part.properties) {
        throw new Error(`${file}#${pointer}: allOf part ${i} is not an object schema`);
      }
      for (const key of Object.keys(part.properties)) {
        out.properties[key] = convert(partFile, `${partPointer}/properties/${key}`);
      }
      for (const key of part.required ?? []) if (!out.required.includes(key)) out.required.push(key);
    });
    if (out.required.length === 0) delete out.required;
    return out;
  }

  return { convert, definitions };
}

async function generate(schemaDir) {
  const bundler = createBundler(schemaDir);
  const spec = bundler.convert('config-schema.json', '');
  bundler.convert('state-schema.json', '');
  bundler.convert('features-schema.json', '');
  if (!spec.$ref) throw new Error('config-schema.json did not produce a named Spec type');

  // Definitions in a fixed order (by name) so the output does not depend on traversal order.
  const definitions = {};
  for (const name of Object.keys(bundler.definitions).sort()) definitions[name] = bundler.definitions[name];
  // Spec is the root itself; left among the definitions it would be declared twice.
  const { Spec: specSchema, ...others } = definitions;
  const root = { ...specSchema, definitions: others };

  const ts = await compile(root, 'Spec', {
    bannerComment: '',
    additionalProperties: false,
    declareExternallyReferenced: true,
    ignoreMinAndMaxItems: true,
    strictIndexSignatures: false,
    unreachableDefinitions: true,
    unknownAny: true,
    format: true,
    style: { singleQuote: true, printWidth: 100, trailingComma: 'all' },
    $refOptions: { resolve: { file: false, http: false } },
  });
  // The compiler notes on every definition where it was referenced from: noise here.
  const referencedNote = /\/\*\*\n \* This interface was referenced by `Spec`'s JSON-Schema\n \* via the `definition` "\w+"\.\n \*\/\n/g;
  const body = ts.replace(referencedNote, '');
  if (body.includes('This interface was referenced')) {
    throw new Error('unexpected compiler comment left in output');
  }
  const spaced = body.replace(/\n+export /g, '\n\nexport ');
  return `${HEADER}\n${spaced.trim()}\n\n/** The config.json document: an alias of {@link Spec}. */\nexport type OciConfig = Spec;\n`;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(path.join(opts.schemaDir, 'config-schema.json'))) {
    throw new Error(`no config-schema.json in ${opts.schemaDir} (pass --schema-dir)`);
  }
  const output = await generate(opts.schemaDir);
  if (opts.check) {
    const current = fs.existsSync(outFile) ? fs.readFileSync(outFile, 'utf8') : '';
    if (current !== output) {
      console.error(`${path.relative(projectRoot, outFile)} is out of date: run npm run gen:types`);
      process.exitCode = 1;
    }
    return;
  }
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  fs.writeFileSync(outFile, output);
  console.log(`wrote ${path.relative(projectRoot, outFile)}`);
}

main().catch((err) => {
  console.error(`gen-types: ${err.message}`);
  process.exitCode = 1;
});
