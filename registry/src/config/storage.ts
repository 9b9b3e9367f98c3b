// storage: exactly one driver plus distribution's non-driver sections (delete, maintenance, cache, redirect).
import type { FilesystemStorage, OSSStorage, S3Storage, StorageConfig, StorageDriverConfig } from './types.js';
import { posix } from 'node:path';
import { describeText, type Section } from './section.js';
import { describeOrigin } from './tree.js';

/** Keys of `storage` that are not drivers (distribution's list, plus `tag` from distribution 3). */
export const STORAGE_SECTIONS: readonly string[] = ['delete', 'maintenance', 'cache', 'redirect', 'tag'];

export const DRIVERS = ['filesystem', 'inmemory', 's3', 'oss'] as const;

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
/** S3 and OSS refuse multipart parts below 5 MiB; S3 caps a part at 5 GiB. */
const MIN_CHUNK = 5 * MiB;
const MAX_CHUNK = 5 * GiB;
const DEFAULT_CHUNK = 10 * MiB;
const DEFAULT_COPY_CHUNK = 32 * MiB;

const S3_STORAGE_CLASSES = [
  'STANDARD',
  'REDUCED_REDUNDANCY',
  'STANDARD_IA',
  'ONEZONE_IA',
  'INTELLIGENT_TIERING',
  'OUTPOSTS',
  'GLACIER_IR',
  'NONE',
] as const;

export function joinNames(names: string[]): string {
  return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

const AMONG_SYSTEM_FILES = "images would be written among the system's own files";

/** Directories no registry root may be in: kernel pseudo-filesystems and the system's own files. */
const SYSTEM_TREES: Record<string, string> = {
  '/proc': 'a kernel pseudo-filesystem: nothing written there is stored on disk',
  '/sys': 'a kernel pseudo-filesystem: nothing written there is stored on disk',
  '/dev': 'a kernel pseudo-filesystem: nothing written there is stored on disk',
  '/etc': `the system's configuration: ${AMONG_SYSTEM_FILES}`,
  '/boot': `the kernel and boot loader: ${AMONG_SYSTEM_FILES}`,
};

/** Directories a registry root may be below but not be: they hold the system's own files next to it. */
const SYSTEM_DIRECTORIES = ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/usr', '/var', '/run', '/home', '/root'];

/** Why a filesystem root would lose or misplace images, or undefined when it is a directory of the registry's own. */
function rootdirectoryProblem(root: string): string | undefined {
  if (root.includes('\0')) return 'contains a NUL (U+0000), which no file path can hold';
  const normal = posix.normalize(root).replace(/(.)\/+$/, '$1');
  if (normal === '..' || normal.startsWith('../')) {
    return `${describeText(root)} climbs out of the working directory, so images land wherever the registry is started from (in the container, outside its /var/lib/registry volume); use an absolute path`;
  }
  const own = 'give the registry a directory of its own (e.g. /var/lib/registry)';
  if (normal === '/') return `${describeText(root)} is the root of the filesystem: ${AMONG_SYSTEM_FILES}; ${own}`;
  for (const [tree, what] of Object.entries(SYSTEM_TREES)) {
    if (normal === tree || normal.startsWith(`${tree}/`)) return `${describeText(root)} is ${normal === tree ? '' : 'inside '}${tree}, ${what}; ${own}`;
  }
  if (SYSTEM_DIRECTORIES.includes(normal)) return `${describeText(root)} is ${normal}, a system directory: ${AMONG_SYSTEM_FILES}; ${own}`;
  return undefined;
}

function readFilesystem(s: Section): FilesystemStorage {
  const rootdirectory = s.string('rootdirectory') ?? '/var/lib/registry';
  const problem = rootdirectory === '' ? 'must not be empty (default /var/lib/registry)' : rootdirectoryProblem(rootdirectory);
  if (problem !== undefined) s.error('rootdirectory', problem, s.originOf('rootdirectory'));
  return { rootdirectory, maxthreads: s.integer('maxthreads', 100, { min: 25 }) };
}

/** inmemory loses every image when the process ends; only an explicit acceptdataloss: true lets it through. */
function readInmemory(s: Section): void {
  if (s.boolean('acceptdataloss', false)) return;
  s.error(
    'acceptdataloss',
    'required: the inmemory driver keeps every image in memory and loses them all when the registry stops; set it to true to accept that (tests, development), or use filesystem, s3 or oss',
    s.originOf('acceptdataloss') ?? s.origin,
  );
}

/** distribution lets an empty access key mean "use the instance's IAM role", as an absent one does. */
function optional(value: string | undefined): string | undefined {
  return value === '' ? undefined : value;
}

function readS3(s: Section): S3Storage {
  const accesskey = optional(s.string('accesskey'));
  const secretkey = optional(s.string('secretkey'));
  if ((accesskey === undefined) !== (secretkey === undefined)) {
    const missing = accesskey === undefined ? 'accesskey' : 'secretkey';
    s.error(missing, `required when ${missing === 'accesskey' ? 'secretkey' : 'accesskey'} is set (omit both to use the instance's credentials)`, s.origin);
  }
  const config: S3Storage = {
    region: s.required('region'),
    bucket: s.required('bucket'),
    regionendpoint: optional(s.string('regionendpoint')),
    // Absent is not false: distribution addresses a regionendpoint by path unless forcepathstyle says otherwise.
    forcepathstyle: s.boolean('forcepathstyle', undefined),
    encrypt: s.boolean('encrypt', false),
    keyid: optional(s.string('keyid')),
    secure: s.boolean('secure', true),
    skipverify: s.boolean('skipverify', false),
    v4auth: s.boolean('v4auth', true),
    chunksize: s.integer('chunksize', DEFAULT_CHUNK, { min: MIN_CHUNK, max: MAX_CHUNK }),
    multipartcopychunksize: s.integer('multipartcopychunksize', DEFAULT_COPY_CHUNK, { min: MIN_CHUNK, max: MAX_CHUNK }),
    multipartcopymaxconcurrency: s.integer('multipartcopymaxconcurrency', 100, { min: 1 }),
    multipartcopythresholdsize: s.integer('multipartcopythresholdsize', DEFAULT_COPY_CHUNK, { min: 0, max: MAX_CHUNK }),
    rootdirectory: s.string('rootdirectory') ?? '',
    storageclass: s.oneOf('storageclass', S3_STORAGE_CLASSES, 'STANDARD'),
    useragent: optional(s.string('useragent')),
  };
  if (accesskey !== undefined) config.accesskey = accesskey;
  if (secretkey !== undefined) config.secretkey = secretkey;
  for (const key of ['accelerate', 'usedualstack', 'objectacl', 'loglevel', 'sessiontoken', 'checksumdisabled']) s.unsupported(key);
  return config;
}

function readOSS(s: Section): OSSStorage {
  return {
    accesskeyid: s.required('accesskeyid'),
    accesskeysecret: s.required('accesskeysecret'),
    region: s.required('region'),
    bucket: s.required('bucket'),
    endpoint: optional(s.string('endpoint')),
    internal: s.boolean('internal', false),
    encrypt: s.boolean('encrypt', false),
    secure: s.boolean('secure', true),
    chunksize: s.integer('chunksize', DEFAULT_CHUNK, { min: MIN_CHUNK, max: MAX_CHUNK }),
    rootdirectory: s.string('rootdirectory') ?? '',
  };
}

function readDriver(storage: Section, name: string): StorageDriverConfig {
  // Driver parameters are free-form in distribution and its drivers accept "true" or "10485760" as strings.
  const lenient = { lenient: true };
  switch (name) {
    case 'filesystem':
      return { type: 'filesystem', filesystem: storage.section(name, readFilesystem, lenient) };
    case 'inmemory':
      storage.section(name, readInmemory, lenient);
      return { type: 'inmemory' };
    case 's3':
      return { type: 's3', s3: storage.section(name, readS3, lenient) };
    case 'oss':
      return { type: 'oss', oss: storage.section(name, readOSS, lenient) };
    default:
      storage.error(name, `driver not supported by this registry (use one of ${DRIVERS.join(', ')})`, storage.originOf(name));
      return { type: 'inmemory' };
  }
}

function readCache(s: Section): StorageConfig['cache'] {
  // `layerinfo` is distribution's deprecated name for `blobdescriptor`.
  const key = s.get('blobdescriptor') === undefined && s.get('layerinfo') !== undefined ? 'layerinfo' : 'blobdescriptor';
  s.unsupported('blobdescriptorsize');
  if (s.get(key) === undefined) return {};
  return { blobdescriptor: s.oneOf(key, ['inmemory', 'redis'] as const, 'inmemory') };
}

function readStorageSection(s: Section): StorageConfig {
  const drivers = s.keys().filter((key) => !STORAGE_SECTIONS.includes(key));
  let driver: StorageDriverConfig = { type: 'inmemory' };
  if (drivers.length === 1) {
    driver = readDriver(s, drivers[0]);
  } else {
    const message = `exactly one driver must be configured, found ${drivers.length === 0 ? 'none' : joinNames(drivers)}`;
    if (drivers.length === 0) {
      const names = DRIVERS.join(', ');
      s.error(undefined, s.present ? `${message} (use one of ${names})` : `required: configure exactly one driver (${names})`, s.origin);
    } else {
      // Drivers often come from different places (the file and a REGISTRY_STORAGE_* variable): name each one's.
      const origins = drivers.map((name) => {
        const origin = s.originOf(name);
        return origin === undefined ? name : `${name}: ${describeOrigin(origin)}`;
      });
      s.error(undefined, `${message} [${origins.join('; ')}]`);
    }
  }
  const maintenance = s.section('maintenance', (m) => ({
    readonly: m.section('readonly', (r) => ({ enabled: r.boolean('enabled', false) })),
    uploadpurging: m.section('uploadpurging', (u) => ({
      enabled: u.boolean('enabled', true),
      age: u.duration('age', 168 * 3_600_000, { positive: true }),
      interval: u.duration('interval', 24 * 3_600_000, { positive: true }),
      dryrun: u.boolean('dryrun', false),
    })),
    gc: m.section('gc', (g) => ({
      enabled: g.boolean('enabled', false),
      interval: g.duration('interval', 24 * 3_600_000, { positive: true }),
      minage: g.duration('minage', 3_600_000),
      deleteuntagged: g.boolean('deleteuntagged', false),
    })),
    prune: m.section('prune', (p) => ({
      enabled: p.boolean('enabled', false),
      interval: p.duration('interval', 7 * 24 * 3_600_000, { positive: true }),
      keep: p.integer('keep', 50, { min: 1 }),
      repositories: p.stringList('repositories') ?? [],
    })),
  }));
  s.section('tag', (t) => t.unsupported('concurrencylimit'));
  return {
    driver,
    delete: s.section('delete', (d) => ({ enabled: d.boolean('enabled', false) })),
    maintenance,
    cache: s.section('cache', readCache),
    redirect: s.section('redirect', (r) => ({ disable: r.boolean('disable', false) })),
  };
}

export function readStorage(top: Section): StorageConfig {
  return top.section('storage', readStorageSection, { shorthand: true });
}

