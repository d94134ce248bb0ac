import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// No Docker engine runs here: the compose file is checked statically.
const root = join(import.meta.dirname, '..', '..');
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'));
const services = compose.services as Record<string, Record<string, any>>;

function env(service: string): Record<string, string> {
  return services[service]!.environment;
}

describe('docker-compose.yml', () => {
  it('has PostgreSQL, a Temporal server on it, the Web UI and the worker', () => {
    expect(Object.keys(services).sort()).toEqual(['postgres', 'temporal', 'temporal-ui', 'worker']);
    expect(services.postgres!.image).toMatch(/^postgres:\d+/);
    expect(services.temporal!.image).toMatch(/^temporalio\/auto-setup:/);
    expect(services['temporal-ui']!.image).toMatch(/^temporalio\/ui:/);
  });

  it('persists Temporal to the compose PostgreSQL', () => {
    expect(env('temporal')).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgres' });
    expect(env('temporal').POSTGRES_USER).toBe(env('postgres').POSTGRES_USER);
    expect(services.temporal!.depends_on.postgres.condition).toBe('service_healthy');
    const init = services.postgres!.volumes.find((v: string) => v.includes('docker-entrypoint-initdb.d'));
    expect(existsSync(join(root, init.split(':')[0]!))).toBe(true);
  });

  it('points the UI and the worker at the Temporal service and the worker at the database', () => {
    const port = String(services.temporal!.ports[0]).split(':')[1];
    expect(env('temporal-ui').TEMPORAL_ADDRESS).toBe(`temporal:${port}`);
    expect(env('worker').TEMPORAL_ADDRESS).toBe(`temporal:${port}`);
    const db = new URL(env('worker').DATABASE_URL!.replace('${POSTGRES_PASSWORD:-auth}', 'auth'));
    expect(db.hostname).toBe('postgres');
    expect(db.pathname).toBe(`/${env('postgres').POSTGRES_DB}`);
  });

  it('builds the worker from this repository and runs the worker script', () => {
    expect(services.worker!.build).toBe('.');
    expect(services.worker!.command).toEqual(['npm', 'run', 'worker']);
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(pkg.scripts.worker).toContain('--external');
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    for (const m of dockerfile.matchAll(/^COPY (\S+) /gm)) {
      for (const f of m[1]!.split(' ')) expect(existsSync(join(root, f)), `${f} copied by the Dockerfile exists`).toBe(true);
    }
  });

  it('every service a service depends on exists', () => {
    for (const [name, s] of Object.entries(services)) {
      const deps = Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});
      for (const d of deps) expect(services[d], `${name} depends on ${d}`).toBeDefined();
    }
  });
});
