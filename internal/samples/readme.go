package samples

import (
	"fmt"
	"strings"
)

// langInfo is what the README says about a language.
type langInfo struct {
	Name        string
	Requirement string // English
	RequireZH   string
	Get         string // where to get it
}

var langInfos = map[string]langInfo{
	"python": {"Python", "Python 3.7 or newer (`python3`); only the standard library is used.",
		"Python 3.7 或更高版本（`python3`），只用到标准库。", "https://www.python.org/downloads/"},
	"javascript": {"JavaScript (Node.js)", "Node.js 18 or newer (`node`); no npm packages are needed.",
		"Node.js 18 或更高版本（`node`），无需安装 npm 包。", "https://nodejs.org/"},
	"go": {"Go", "Go 1.18 or newer (`go`); only the standard library is used.",
		"Go 1.18 或更高版本（`go`），只用到标准库。", "https://go.dev/dl/"},
	"java": {"Java", "A JDK 11 or newer (`java` and `javac`); only the JDK is used, no Maven or Gradle.",
		"JDK 11 或更高版本（`java` 和 `javac`），只用到 JDK 自带的库，无需 Maven 或 Gradle。", "https://adoptium.net/"},
}

// flowText describes, per client type, what the page walks through.
var flowText = map[string][2]string{
	"web": {"Click **Start authorization**, sign in to cozeauth and authorize the app. You come back to the sample, which exchanges the code (with the app's client secret) for a token and shows **Authorization Successful** with your name and user ID, the access token, its expiry and the refresh token. **Refresh token** gets a new one.",
		"点击 **Start authorization**（开始授权），登录 cozeauth 并授权此应用。页面回到示例程序，它用授权码（和应用的客户端密钥）换取令牌，显示 **授权成功**、你的昵称和用户 ID、访问令牌、过期时间和刷新令牌。**Refresh token**（刷新令牌）会换取新的令牌。"},
	"pkce": {"Click **Start authorization**, sign in to cozeauth and authorize the app. You come back to the sample, which exchanges the code with its PKCE verifier (no secret) for a token and shows **Authorization Successful** with your name and user ID, the access token, its expiry and the refresh token. **Refresh token** gets a new one.",
		"点击 **Start authorization**（开始授权），登录 cozeauth 并授权此应用。页面回到示例程序，它用授权码和 PKCE 校验码（无需密钥）换取令牌，显示 **授权成功**、你的昵称和用户 ID、访问令牌、过期时间和刷新令牌。**Refresh token**（刷新令牌）会换取新的令牌。"},
	"device": {"Click **Start authorization**: the page shows a verification link and a user code. Open the link, sign in to cozeauth, check the code and authorize. The sample polls for the token meanwhile and then shows **Authorization Successful** with your name and user ID, the access token, its expiry and the refresh token.",
		"点击 **Start authorization**（开始授权）：页面显示验证链接和用户码。打开链接，登录 cozeauth，核对用户码并授权。示例程序同时轮询令牌，完成后显示 **授权成功**、你的昵称和用户 ID、访问令牌、过期时间和刷新令牌。"},
	"jwt": {"Click **Get token**: the sample signs a JWT with the private key in `coze_oauth_config.json` and gets an access token for the app, shown with its expiry. **New token** gets another one. (The app must be authorized for an account first: the app's page in the console has **Authorize for my account**.)",
		"点击 **Get token**（获取令牌）：示例程序用 `coze_oauth_config.json` 中的私钥签发 JWT，换取应用的访问令牌，并显示过期时间。**New token**（新令牌）会再换取一个。（应用须先获得账号授权：在控制台的应用页面点击 **为我的账号授权**。）"},
}

// readme writes README.md: English, then Chinese.
func readme(lang string, c Config, port int) string {
	li := langInfos[lang]
	if port == 0 {
		port = DefaultPort
	}
	run, runPS := "bash bootstrap.sh", `.\bootstrap.ps1`
	if port != DefaultPort {
		run, runPS = fmt.Sprintf("PORT=%d bash bootstrap.sh", port), fmt.Sprintf(`$env:PORT=%d; .\bootstrap.ps1`, port)
	}
	open := fmt.Sprintf("http://127.0.0.1:%d", port)
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("# Coze OAuth sample (%s, %s)", li.Name, c.ClientType)
	p("")
	p("A small program that walks you through the OAuth flow of the app `%s` (client type `%s`) against the", c.ClientID, c.ClientType)
	p("authorization server at %s. `coze_oauth_config.json` holds the app's settings in the format of Coze's own", c.CozeAPIBase)
	p("sample files, so Coze's official quickstart programs read it too.")
	p("")
	switch c.ClientType {
	case "web":
		p("The config holds a **client secret** made for this download (labelled \"sample\" with the date in the app's list")
		p("of client secrets). Keep the file private; delete the secret in the console when you are done.")
		p("")
	case "jwt":
		p("The config holds a **private key** made for this download; cozeauth keeps only its public key (labelled")
		p("\"sample\" with the date in the app's list of public keys). Keep the file private; delete the key in the")
		p("console when you are done.")
		p("")
	}
	p("## Requirements")
	p("")
	p("- %s Get it from %s.", li.Requirement, li.Get)
	if c.ClientType == "web" || c.ClientType == "pkce" {
		p("- The app's redirect URIs include `%s`.", RedirectURI(port))
	}
	p("")
	p("## Run it")
	p("")
	p("1. In this directory run `%s` (Windows PowerShell: `%s`). It checks %s and starts the sample.", run, runPS, li.Name)
	p("2. Open %s in your browser.", open)
	p("3. Follow the page. %s", flowText[c.ClientType][0])
	p("")
	redirect := c.ClientType == "web" || c.ClientType == "pkce"
	if redirect {
		p("To use another port, set `PORT` (e.g. `PORT=9000 bash bootstrap.sh`); the redirect URI is then")
		p("`http://127.0.0.1:PORT/callback` and must be registered for the app (the console's download page and")
		p("`cozeauth admin app sample --port` register it).")
	} else {
		p("To use another port, set `PORT` (e.g. `PORT=9000 bash bootstrap.sh`).")
	}
	p("If cozeauth itself listens on port %d of this machine, choose another port for the sample.", port)
	p("")
	p("The token is for trying out only: the sample keeps it in memory and prints nothing secret.")
	p("")
	p("---")
	p("")
	p("# 扣子 OAuth 示例（%s，%s）", li.Name, c.ClientType)
	p("")
	p("一个小程序，带你针对 %s 上的授权服务体验应用 `%s`（客户端类型 `%s`）的 OAuth 授权流程。", c.CozeAPIBase, c.ClientID, c.ClientType)
	p("`coze_oauth_config.json` 保存应用的配置，格式与扣子官方示例文件相同，扣子官方的快速入门程序也能读取。")
	p("")
	switch c.ClientType {
	case "web":
		p("配置中含有为本次下载新建的**客户端密钥**（在应用的客户端密钥列表中标记为 \"sample\" 加日期）。请妥善保管此文件；用完后在控制台删除该密钥。")
		p("")
	case "jwt":
		p("配置中含有为本次下载新建的**私钥**；cozeauth 只保存其公钥（在应用的公钥列表中标记为 \"sample\" 加日期）。请妥善保管此文件；用完后在控制台删除该公钥。")
		p("")
	}
	p("## 环境要求")
	p("")
	p("- %s下载地址：%s。", li.RequireZH, li.Get)
	if c.ClientType == "web" || c.ClientType == "pkce" {
		p("- 应用的重定向 URL 中包含 `%s`。", RedirectURI(port))
	}
	p("")
	p("## 运行")
	p("")
	p("1. 在此目录下运行 `%s`（Windows PowerShell：`%s`）。脚本会检查 %s 环境并启动示例。", run, runPS, li.Name)
	p("2. 在浏览器中打开 %s。", open)
	p("3. 按页面提示操作。%s", flowText[c.ClientType][1])
	p("")
	if redirect {
		p("如需使用其他端口，请设置 `PORT`（例如 `PORT=9000 bash bootstrap.sh`）；重定向 URL 随之变为")
		p("`http://127.0.0.1:PORT/callback`，且须已为应用注册（控制台的下载页面和 `cozeauth admin app sample --port` 会注册它）。")
	} else {
		p("如需使用其他端口，请设置 `PORT`（例如 `PORT=9000 bash bootstrap.sh`）。")
	}
	p("如果 cozeauth 本身在本机的 %d 端口上运行，请为示例选择其他端口。", port)
	p("")
	p("令牌仅供体验：示例程序只在内存中保存令牌，不会输出任何机密信息。")
	return b.String()
}
