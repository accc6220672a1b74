/*
 * The config contract (runtime/src/config/CONTRACT.md): the renderers are typed against the runtime's config types, which
 * catches unknown fields at compile time; the values (patterns, ranges, "exactly one of") are the JSON Schema's to check.
 * Every example's gateway config must pass the schema the runtime validates with at start-up.
 */
import * as fs from 'fs';
import * as path from 'path';
import Ajv2020 from 'ajv/dist/2020';
import { Testing } from 'cdk8s';
import * as YAML from 'yaml';
import { EXAMPLES } from '../examples/synth';

const SCHEMA = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'runtime', 'schema', 'config.schema.json'), 'utf8'));

const examples = EXAMPLES.map((example) => [example.name, example] as const);

test.each(examples)('example %s renders a gateway config the runtime accepts', (_name, example) => {
  const validate = new Ajv2020({ allErrors: true, strict: false }).compile(SCHEMA);
  const manifests = Testing.synth(example.create(Testing.app(), example.name));
  const configMaps = manifests.filter((o: any) => o.kind === 'ConfigMap' && o.data?.['config.yaml']);
  expect(configMaps.length).toBeGreaterThan(0);
  for (const configMap of configMaps) {
    const config = YAML.parse(configMap.data['config.yaml']);
    validate(config);
    expect({ configMap: configMap.metadata.name, errors: validate.errors ?? [] }).toEqual({ configMap: configMap.metadata.name, errors: [] });
  }
});
