/**
 * Stage 3, Docker flavour: build each implementation's image from its Dockerfile, tagged by a
 * hash of its inputs and base image, so that an unchanged peer is not rebuilt. A failed build
 * does not stop the run: its cells fail with the build log (as with local builds).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { execa } from 'execa';
import type { BuildOutcome } from './build.js';
import { inputHash, whileBuilding } from './build.js';
import { ConfigError, type Matrix } from './config.js';

export interface ImageOptions {
  root: string;
  logDir: string;
  /** Replaces every Dockerfile's BASE_IMAGE and BUILD_IMAGE (the offline base); absent: the official images. */
  base?: string;
  onProgress?: (line: string) => void;
}

export interface ImageOutcome extends BuildOutcome {
  tag?: string;
}

export const IMAGE_REPOSITORY = 'grpc-interop-matrix';

/** An implementation's name where Docker allows no `@` (image, Compose service and container names): `ts@1.10.11` → `ts-v1.10.11`. */
export const dockerName = (impl: string): string => impl.replaceAll('@', '-v');

export function imageTag(root: string, impl: string, docker: NonNullable<Matrix['implementations'][string]['docker']>, base: string | undefined): string {
  const args = Object.entries(docker.build_args).map(([k, v]) => `${k}=${v}`);
  const hash = inputHash(root, { command: ['docker', docker.dockerfile, base ?? 'official images', ...args], inputs: docker.inputs, exclude: docker.exclude, outputs: [], after: [] });
  return `${IMAGE_REPOSITORY}/${dockerName(impl)}:${hash.slice(0, 12)}`;
}

/** Throws a ConfigError with what to do when no Docker engine answers. */
export async function checkDocker(): Promise<void> {
  const info = await execa('docker', ['info', '--format', '{{.ServerVersion}}'], { reject: false, stdin: 'ignore' });
  if (info.failed) {
    throw new ConfigError(
      `--launcher docker: no Docker engine answers (${(info.stderr || info.shortMessage || 'no answer').split('\n')[0] ?? ''}). ` +
        'Install and start Docker, or run the peers as local processes with --launcher process.',
    );
  }
}

export function ensureImages(matrix: Matrix, impls: Iterable<string>, options: ImageOptions): Promise<Map<string, ImageOutcome>> {
  return whileBuilding(options.root, options.onProgress, () => buildImages(matrix, impls, options), 'images');
}

async function buildImages(matrix: Matrix, impls: Iterable<string>, options: ImageOptions): Promise<Map<string, ImageOutcome>> {
  const outcomes = new Map<string, ImageOutcome>();
  for (const impl of impls) {
    const docker = matrix.implementations[impl]?.docker;
    if (!docker) {
      outcomes.set(impl, { impl, status: 'failed', ms: 0, error: `no docker image is declared for "${impl}" in ${matrix.file}` });
      continue;
    }
    const tag = imageTag(options.root, impl, docker, options.base);
    const present = await execa('docker', ['image', 'inspect', tag], { reject: false, stdin: 'ignore' });
    if (!present.failed) {
      outcomes.set(impl, { impl, status: 'fresh', ms: 0, tag });
      continue;
    }
    const args = ['build', '--network', 'host', '-f', docker.dockerfile, '-t', tag];
    if (options.base) args.push('--build-arg', `BASE_IMAGE=${options.base}`, '--build-arg', `BUILD_IMAGE=${options.base}`);
    for (const [name, value] of Object.entries(docker.build_args)) args.push('--build-arg', `${name}=${value}`);
    args.push('.');
    options.onProgress?.(`building image ${tag} (${docker.dockerfile})`);
    const started = performance.now();
    const log = join(options.logDir, 'docker', `${impl}.log`);
    mkdirSync(dirname(log), { recursive: true });
    const result = await execa('docker', args, { cwd: options.root, all: true, reject: false, stdin: 'ignore' });
    writeFileSync(log, `$ docker ${args.join(' ')}\n${result.all ?? ''}\n`);
    const ms = Math.round(performance.now() - started);
    if (result.failed) {
      options.onProgress?.(`image of ${impl} failed to build; log: ${relative(options.root, log)}`);
      outcomes.set(impl, { impl, status: 'failed', ms, log, error: `image build failed (exit code ${result.exitCode}); see ${relative(options.root, log)}` });
      continue;
    }
    options.onProgress?.(`built image ${tag} in ${(ms / 1000).toFixed(1)} s`);
    outcomes.set(impl, { impl, status: 'built', ms, log, tag });
  }
  return outcomes;
}
