// The azureml-examples corpus (test/fixtures/third-party/azureml-examples): what its files need before az ml reads them.

/**
 * The values the examples' own scripts substitute (sed) into their template YAML before `az ml … -f`
 * (cli/deploy-custom-container-*.sh and friends): `{{ENDPOINT_NAME}}`, `{{acr_name}}`, ….
 */
export const CORPUS_TEMPLATE_VARS: Record<string, string> = {
  ENDPOINT_NAME: 'my-endpoint',
  ACR_NAME: 'myacr',
  acr_name: 'myacr',
  MODEL_VERSION: '1',
  deployment_name: 'blue',
  model_name: 'sklearn-diabetes',
  environment_name: 'sklearn-mlflow-cc',
};
