"""Routes of 签约中心, added to the app by one call from app/web.py."""

from __future__ import annotations

from aiohttp import web

from .views import documents, employer, public, staff, student

ID = "{agreement_id:\\d+}"


def setup_signing_routes(app: web.Application) -> None:
    r = app.router
    # Student: 【签约中心】, 线上应约, 线下签约, 【查看详情】
    r.add_get("/student/signing", student.centre, name="signing_centre")
    r.add_get(f"/student/signing/online/{ID}", student.invitation, name="signing_invitation")
    r.add_post(f"/student/signing/online/{ID}/answer", student.answer, name="signing_answer")
    r.add_get("/student/signing/offline", student.offline_list, name="signing_offline")
    r.add_get("/student/signing/offline/new", student.offline_new, name="signing_offline_new")
    r.add_post("/student/signing/offline/new", student.offline_save)
    r.add_get(f"/student/signing/offline/{ID}/edit", student.offline_edit, name="signing_offline_edit")
    r.add_post(f"/student/signing/offline/{ID}/edit", student.offline_save)
    r.add_get(f"/student/signing/offline/{ID}/preview", student.offline_preview,
              name="signing_offline_preview")
    r.add_post(f"/student/signing/offline/{ID}/send", student.offline_send, name="signing_offline_send")
    r.add_post(f"/student/signing/offline/{ID}/generate", student.offline_generate,
               name="signing_offline_generate")
    r.add_post(f"/student/signing/offline/{ID}/cancel", student.offline_cancel,
               name="signing_offline_cancel")
    r.add_get(f"/student/signing/agreements/{ID}", student.detail, name="signing_agreement")
    r.add_post(f"/student/signing/agreements/{ID}/scans", student.upload_scans,
               name="signing_upload_scans")
    # Employer: 发起签约 and the agreements it is party to
    r.add_get("/employer/agreements", employer.agreements, name="employer_agreements")
    r.add_get("/employer/agreements/new", employer.new_form, name="employer_agreement_new")
    r.add_post("/employer/agreements/new", employer.new_submit)
    r.add_get(f"/employer/agreements/{ID}", employer.detail, name="employer_agreement")
    r.add_post(f"/employer/agreements/{ID}/withdraw", employer.withdraw,
               name="employer_agreement_withdraw")
    r.add_post(f"/employer/agreements/{ID}/resend", employer.resend, name="employer_agreement_resend")
    r.add_post(f"/employer/agreements/{ID}/confirm", employer.confirm,
               name="employer_agreement_confirm")
    # Counselor (own college) and school admin (own school)
    r.add_get("/reviews/agreements", staff.queue, name="agreement_queue")
    r.add_post("/reviews/agreements/batch", staff.batch, name="agreement_batch")
    r.add_get(f"/reviews/agreements/{ID}", staff.review_page, name="agreement_review")
    r.add_post(f"/reviews/agreements/{ID}", staff.decide, name="agreement_decide")
    # The document and the stamped copies, for everyone in the agreement's scope
    r.add_get(f"/agreements/{ID}/agreement.pdf", documents.pdf, name="agreement_pdf")
    r.add_get(f"/agreements/{ID}/original.png", documents.image, name="agreement_image")
    r.add_get(f"/agreements/{ID}/scans/{{file_id:[A-Za-z0-9_-]{{1,64}}}}", documents.scan,
              name="agreement_scan")
    # No login: the employer's confirmation link, and the QR code's verification page
    r.add_get("/agreements/confirm/{token}", public.confirm_form, name="agreement_confirm")
    r.add_post("/agreements/confirm/{token}", public.confirm_submit)
    r.add_get("/verify/agreement", public.verify, name="agreement_verify_lookup")
    r.add_get("/verify/agreement/{token}", public.verify, name="agreement_verify")
