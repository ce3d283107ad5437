export { AwsRequestError, awsEnvironment, awsJsonRequest } from './request.js';
export { type AwsCredentials, signRequest } from './sigv4.js';
export { type SendMessageInput, sqsSendMessage } from './sqs.js';
export { type ParametersAnswer, ssmGetParameters } from './ssm.js';
