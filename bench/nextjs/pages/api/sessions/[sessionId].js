// GET /api/sessions/:sessionId: the seed's result route.
import { GetFaceLivenessSessionResultsCommand } from "@aws-sdk/client-rekognition";
import { rekognition, threshold } from "../../../lib/rekognition";

export default async function handler(req, res) {
  const { sessionId } = req.query;
  try {
    const out = await rekognition.send(
      new GetFaceLivenessSessionResultsCommand({ SessionId: sessionId }),
    );
    const confidence = out.Confidence ?? null;
    res.status(200).json({
      sessionId: out.SessionId,
      status: out.Status,
      confidence,
      isLive: out.Status === "SUCCEEDED" && confidence !== null && confidence >= threshold,
      threshold,
    });
  } catch (err) {
    const status = err.name === "SessionNotFoundException" ? 404 : 502;
    res.status(status).json({ error: err.name, message: "Rekognition call failed." });
  }
}
