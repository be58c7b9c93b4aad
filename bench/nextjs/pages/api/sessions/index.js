// POST /api/sessions: the seed's create route.
import { CreateFaceLivenessSessionCommand } from "@aws-sdk/client-rekognition";
import { rekognition } from "../../../lib/rekognition";

export default async function handler(req, res) {
  if (req.method !== "POST") {
    res.setHeader("Allow", "POST");
    return res.status(405).json({ error: "method_not_allowed" });
  }
  try {
    const token = req.headers["idempotency-key"];
    const out = await rekognition.send(
      new CreateFaceLivenessSessionCommand(token ? { ClientRequestToken: token } : {}),
    );
    const expiresAt = new Date(Date.now() + 180_000).toISOString();
    res.status(201).json({ sessionId: out.SessionId, expiresAt });
  } catch (err) {
    res.status(502).json({ error: err.name, message: "Rekognition call failed." });
  }
}
