"""Media upload to pad.ma with pandora_client: see ``service.run_upload``, docs/export.md."""

from .client import UploadStopped
from .plan import upload_plan
from .service import UploadResult, run_upload

__all__ = ["UploadResult", "UploadStopped", "run_upload", "upload_plan"]
