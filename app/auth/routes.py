"""Routes of accounts: 学生激活, login and logout, 忘记密码."""

from __future__ import annotations

from aiohttp import web

from . import views


def setup_auth_routes(app: web.Application) -> None:
    r = app.router
    # 学生激活
    r.add_get("/activate", views.activate_form, name="activate")
    r.add_post("/activate", views.activate_submit)
    r.add_get("/activate/profile", views.profile_form, name="activate_profile")
    r.add_post("/activate/profile", views.profile_submit)
    # 登录 / 退出
    r.add_get("/login/student", views.login_form, name="login_student")
    r.add_post("/login/student", views.login_submit)
    r.add_get("/login/employer", views.login_form, name="login_employer")
    r.add_post("/login/employer", views.login_submit)
    r.add_get("/login/staff", views.login_form, name="login_staff")
    r.add_post("/login/staff", views.login_submit)
    r.add_post("/logout", views.logout, name="logout")
    # 忘记密码
    r.add_get("/password/forgot", views.forgot_form, name="forgot")
    r.add_post("/password/forgot", views.forgot_submit)
    r.add_get("/password/forgot/{token}/verify", views.verify_form, name="forgot_verify")
    r.add_post("/password/forgot/{token}/code", views.send_code, name="forgot_send_code")
    r.add_post("/password/forgot/{token}/verify", views.verify_submit)
    r.add_get("/password/forgot/{token}/new", views.new_password_form, name="forgot_new")
    r.add_post("/password/forgot/{token}/new", views.new_password_submit)
