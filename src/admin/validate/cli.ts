/**
 * `idgate validate [--format text|json|sarif] [--offline] [--config FILE] FILE|DIR...`: Kiali's
 * checks with Kiali's codes and idgate's own, on Istio YAML and inventory documents. Exit status by
 * the worst finding: 0 none (or info only), 1 an error, 3 warnings only; 2 bad arguments.
 */
import { parseArgs } from 'node:util';
import { filterConfigSchema } from '../../authz/config.js';
import { loadConfigFile } from '../../config/load.js';
import { worstSeverity } from './finding.js';
import { formatJsonLines } from './format/json.js';
import { formatSarif } from './format/sarif.js';
import { formatText } from './format/text.js';
import { validateSources } from './validate-sources.js';

interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

export const VALIDATE_USAGE = `Usage: idgate validate [--format text|json|sarif] [--offline] [--config FILE] [--root-namespace NS]
                       [--path-normalization BASE|MERGE_SLASHES|DECODE_AND_MERGE_SLASHES|NONE] FILE|DIR...
  Checks Istio policies (AuthorizationPolicy, PeerAuthentication, RequestAuthentication, DestinationRule)
  with Kiali's codes (KIA...) and idgate's (IDG...), against the inventory documents given beside them
  (Namespace, ServiceAccount, Deployment/StatefulSet/DaemonSet/ReplicaSet/Pod, Service, the istio ConfigMap).
    --format F        text (default: file:line, code, message, value), json (one object per line), sarif (2.1.0)
    --offline         do not fetch jwksUri or issuer discovery documents
    --config FILE     an idgate config: staticClients (audiences), filter.jwtRules, algorithms, pathNormalization
    --root-namespace  Istio's root namespace (default: the mesh config's, else the config's, else istio-system)
  Exit status: 0 no finding (or info only), 1 an error, 3 warnings but no error, 2 bad arguments.
  Codes and examples: docs/validate.md
`;

export const EXIT_BY_SEVERITY = { none: 0, info: 0, error: 1, warning: 3 } as const;

export async function runValidateCommand(args: string[], io: Io, tool: { version?: string } = {}): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        format: { type: 'string', default: 'text' },
        offline: { type: 'boolean', default: false },
        config: { type: 'string', short: 'c' },
        'root-namespace': { type: 'string' },
        'path-normalization': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    io.stderr(`idgate validate: ${(error as Error).message}\n${VALIDATE_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(VALIDATE_USAGE);
    return 0;
  }
  const format = values.format;
  if (format !== 'text' && format !== 'json' && format !== 'sarif') {
    io.stderr(`idgate validate: --format "${format}": use text, json or sarif\n`);
    return 2;
  }
  if (positionals.length === 0) {
    io.stderr(`idgate validate: name at least one file or directory\n${VALIDATE_USAGE}`);
    return 2;
  }
  let pathNormalization;
  if (values['path-normalization'] !== undefined) {
    const checked = filterConfigSchema.shape.pathNormalization.safeParse(values['path-normalization']);
    if (!checked.success) {
      io.stderr(`idgate validate: --path-normalization "${values['path-normalization']}": use BASE, MERGE_SLASHES, DECODE_AND_MERGE_SLASHES or NONE\n`);
      return 2;
    }
    pathNormalization = checked.data;
  }
  const config = values.config ? await loadConfigFile(values.config) : undefined;
  const report = await validateSources(positionals, {
    offline: values.offline,
    ...(config ? { config } : {}),
    ...(values['root-namespace'] ? { rootNamespace: values['root-namespace'] } : {}),
    ...(pathNormalization ? { pathNormalization } : {}),
  });
  if (format === 'text') io.stdout(formatText(report));
  else if (format === 'sarif') io.stdout(formatSarif(report, tool.version ? { toolVersion: tool.version } : {}));
  else {
    io.stdout(formatJsonLines(report.findings));
    for (const skipped of report.skipped) io.stderr(`note: skipped ${skipped.codes.join(', ')}: ${skipped.reason}\n`);
  }
  return EXIT_BY_SEVERITY[worstSeverity(report.findings) ?? 'none'];
}
