// The source article's Node.js Lambda authorizer, verbatim: APIPark's guide to JWTs and the AWS
// API Gateway (https://apipark.com/blog/5892), section "5. Integrating JWT with the AWS API
// Gateway", "Example Code". Same statements and comments; only the indentation was added.
// Do not fix anything here: this file is the evidence that labkit.aws.article answers as the
// original does (labkit.aws.article_node runs it; tests/test_aws_article_node.py asserts it).
const jwt = require('jsonwebtoken');
exports.handler = async (event) => {
  const token = event.authorizationToken; // Get the token from the event
  const secret = 'your-256-bit-secret'; // Your secret
  try {
    const decoded = jwt.verify(token, secret); // Verify token
    return generatePolicy('user', 'Allow', event.methodArn); // Return a policy
  } catch (err) {
    return generatePolicy('user', 'Deny', event.methodArn); // Deny if verification fails
  }
};
// Function to generate an IAM policy for user
const generatePolicy = (principalId, effect, resource) => {
  const authResponse = {};
  authResponse.principalId = principalId;
  authResponse.policyDocument = {
    Version: '2012-10-17',
    Statement: [{
      Action: 'execute-api:Invoke',
      Effect: effect,
      Resource: resource,
    }]
  };
  return authResponse;
};
