package web

// messages is the one message catalog of the pages: key → {English,
// Simplified Chinese}. The English texts of buttons and labels are a contract
// for browser tests (issue 3's automation contract); change them only with it.
var messages = map[string][2]string{
	// layout
	"lang.name":     {"English", "简体中文"},
	"lang.switch":   {"Language", "语言"},
	"signed_in_as":  {"Signed in as %s", "已登录：%s"},
	"sign_out":      {"Sign out", "退出登录"},
	"skip":          {"Skip to content", "跳到正文"},
	"brand.tagline": {"Authorization server", "授权服务"},

	// login
	"login.title":          {"Sign in", "登录"},
	"login.intro":          {"Sign in to continue.", "登录后继续。"},
	"login.username":       {"Username", "用户名"},
	"login.password":       {"Password", "密码"},
	"login.submit":         {"Sign in", "登录"},
	"login.failed":         {"Wrong username or password.", "用户名或密码错误。"},
	"login.missing":        {"Enter your username and password.", "请输入用户名和密码。"},
	"login.rate_limited":   {"Too many failed sign-in attempts. Wait a few minutes, then try again.", "登录失败次数过多。请等待几分钟后再试。"},
	"login.signed_in":      {"You are signed in.", "你已登录。"},
	"login.signed_in_help": {"You can close this page or return to the app that sent you here.", "你可以关闭此页面，或返回把你带到这里的应用。"},

	// consent
	"consent.title":            {"Authorize %s", "授权 %s"},
	"consent.intro":            {"%s wants to access your Coze account.", "%s 请求访问你的扣子账号。"},
	"consent.app":              {"App", "应用"},
	"consent.client_type":      {"Client type", "客户端类型"},
	"consent.permissions":      {"Permissions requested", "申请的权限"},
	"consent.no_permissions":   {"This app asks for no permissions.", "此应用未申请任何权限。"},
	"consent.account":          {"Account to act in", "授权的账号"},
	"consent.account.personal": {"Personal", "个人账号"},
	"consent.workspaces":       {"Workspaces", "工作空间"},
	"consent.ws.all":           {"All workspaces", "所有工作空间"},
	"consent.ws.all_help":      {"Including workspaces you join later.", "包括以后加入的工作空间。"},
	"consent.ws.selected":      {"Selected workspaces", "指定工作空间"},
	"consent.ws.none":          {"You have no workspaces in this account.", "你在此账号下没有工作空间。"},
	"consent.ws.fixed":         {"This app asks for one workspace only:", "此应用只申请一个工作空间："},
	"consent.ws.of":            {"Workspaces in %s", "%s 的工作空间"},
	"consent.no_account":       {"You are not a member of the workspace this app asks for, so you cannot authorize it.", "你不是此应用所申请的工作空间的成员，无法授权。"},
	"consent.authorize":        {"Authorize", "授权"},
	"consent.cancel":           {"Cancel", "取消"},
	"consent.notice":           {"You can revoke this authorization later.", "你以后可以撤销此授权。"},
	"consent.err.account":      {"Choose an account you belong to.", "请选择你所属的账号。"},
	"consent.err.workspaces":   {"Choose all workspaces, or at least one of your workspaces in the chosen account.", "请选择所有工作空间，或至少选择所选账号下你的一个工作空间。"},
	"consent.device_code":      {"Code on your device: %s", "设备上显示的代码：%s"},

	// client types
	"client.WebBackend":              {"Web backend", "Web 后端应用"},
	"client.WebBackend.help":         {"A server-side web application that keeps a client secret.", "在服务端运行、保管客户端密钥的 Web 应用。"},
	"client.SinglePageOrNative":      {"Single-page or native app", "单页应用或原生应用"},
	"client.SinglePageOrNative.help": {"A browser, mobile or desktop app that cannot keep a secret; it proves itself with PKCE.", "无法保管密钥的浏览器、移动或桌面应用，通过 PKCE 证明身份。"},
	"client.Terminal":                {"TV, device or command line", "电视、设备或命令行"},
	"client.Terminal.help":           {"An app on a device with limited input; you approve it here with a code.", "运行在输入受限设备上的应用，你在此处用代码批准它。"},
	"client.Service":                 {"Service", "服务类应用"},
	"client.Service.help":            {"A backend service that signs JWTs with its own key.", "使用自己的密钥签发 JWT 的后端服务。"},

	// device
	"device.title":          {"Connect a device", "连接设备"},
	"device.intro":          {"Enter the code shown on your device.", "请输入设备上显示的代码。"},
	"device.user_code":      {"User code", "用户码"},
	"device.user_code_help": {"For example BCDF-GHJK. Case and dashes do not matter.", "例如 BCDF-GHJK，不区分大小写，可省略短横线。"},
	"device.continue":       {"Continue", "继续"},
	"device.unknown":        {"This code is unknown, expired or already used. Check it and try again.", "此代码不存在、已过期或已被使用。请检查后重试。"},
	"device.missing":        {"Enter the code shown on your device.", "请输入设备上显示的代码。"},
	"device.approved.title": {"Device connected", "设备已连接"},
	"device.approved":       {"You can return to your device.", "你可以返回设备继续操作了。"},
	"device.denied.title":   {"Request refused", "已拒绝请求"},
	"device.denied":         {"You refused the request. The device will not get access.", "你已拒绝该请求，设备不会获得访问权限。"},

	// errors
	"error.title":       {"Something went wrong", "出错了"},
	"error.bad_request": {"This authorization request is invalid, so it cannot be completed. Contact the developer of the app.", "此授权请求无效，无法完成。请联系应用的开发者。"},
	"error.details":     {"Details", "详细信息"},
	"error.csrf.title":  {"Request refused", "请求被拒绝"},
	"error.csrf":        {"This form has expired or did not come from this site. Go back, reload the page and try again.", "表单已失效或并非来自本站。请返回并刷新页面后重试。"},
	"error.internal":    {"An internal error occurred. Try again later.", "发生内部错误，请稍后再试。"},
	"error.log_id":      {"Log ID: %s", "日志 ID：%s"},
	"error.not_found":   {"Page not found.", "页面不存在。"},
}
