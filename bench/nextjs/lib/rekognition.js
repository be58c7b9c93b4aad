// One Rekognition client per process, as in AWS's Amplify Face Liveness samples.
// Region, endpoint and credentials come from the standard AWS variables.
import { RekognitionClient } from "@aws-sdk/client-rekognition";

export const rekognition = new RekognitionClient({
  region: process.env.AWS_REGION,
  endpoint: process.env.AWS_ENDPOINT_URL,
});

export const threshold = Number(process.env.LIVENESS_CONFIDENCE_THRESHOLD ?? 90);
