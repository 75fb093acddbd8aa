// Reads a JSON array of Prometheus Operator objects on stdin; prints a JSON array of problems
// (one string per invalid object, naming kind, name and what is wrong). Exit 0 either way;
// exit 2 for an object of a kind this script does not know.
import { PrometheusRule } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule";
import { ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor";

const MODELS = { PrometheusRule, ServiceMonitor };

let input = "";
for await (const chunk of process.stdin) input += chunk;

const problems = [];
for (const object of JSON.parse(input)) {
  const Model = MODELS[object.kind];
  if (!Model || object.apiVersion !== "monitoring.coreos.com/v1") {
    console.error(`no schema for ${object.apiVersion} ${object.kind}`);
    process.exit(2);
  }
  try {
    new Model(object).validate();
  } catch (error) {
    problems.push(`${object.kind}/${object.metadata?.name}: ${error.message}`);
  }
}
console.log(JSON.stringify(problems));
