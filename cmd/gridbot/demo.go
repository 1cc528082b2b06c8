package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	iofs "io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/crypto/bcrypt"

	"gridbot/configs"
	"gridbot/core"
	"gridbot/wechatsim"
	"gridbot/wecomsim"
)

// demoLogins are the staff accounts the demo opens, with the grid a newcomer
// is pointed at (L10, 石桥村) in mind.
var demoLogins = []struct{ id, what string }{
	{"town-admin", "镇级管理员，看全部案件"},
	{"sys-admin", "系统管理员：人员与岗位，不看案件"},
	{"audit-admin", "审计管理员：只查阅审计记录"},
	{"sec-admin", "安全管理员：第二因素重置与安全设置"},
	{"v10-cadre", "石桥村干部，看本村网格"},
	{"gl-L10-a", "石桥大网格 网格长（A岗）"},
	{"gl-L10-b", "石桥大网格 B岗"},
	{"dept-chengjian", "城建办，看吹哨给本部门的案件"},
}

// demoPlace is a point inside grid L10 that the phone page offers.
const demoLat, demoLng = 22.3550, 112.5450

func runDemo(ctx context.Context, args []string, env Env) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	dataDir := fs.String("data", filepath.Join("data", "demo"), "directory for the demo's store")
	history := fs.Int("history", demoHistoryCases, "cases of the month of history a new demo ledger starts with (0: none)")
	addr := fs.String("addr", "127.0.0.1:8080", "address of the console and the WeChat callback")
	simAddr := fs.String("sim-addr", "127.0.0.1:8081", "address of the WeChat simulator")
	secondFactor := fs.Bool("second-factor", false, "ask console logins for an authenticator code, as serve does")
	cityDemo := fs.Bool("city", false, "a city of two sample towns on one account (README: Towns as tenants); data in data/demo-city")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cityDemo && !flagSet(fs, "data") {
		*dataDir = filepath.Join("data", "demo-city")
	}
	if err := os.MkdirAll(*dataDir, 0o700); err != nil {
		return fmt.Errorf("demo data directory: %w", err)
	}
	cfg, err := configs.Load("", nil)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("demo: listen on %s (try -addr 127.0.0.1:0): %w", *addr, err)
	}
	simLn, err := net.Listen("tcp", *simAddr)
	if err != nil {
		ln.Close()
		return fmt.Errorf("demo: listen on %s (try -sim-addr 127.0.0.1:0): %w", *simAddr, err)
	}
	base, simBase := "http://"+ln.Addr().String(), "http://"+simLn.Addr().String()

	// Fresh credentials each run: the demo runs safe mode, as a careful
	// deployment would, and nothing secret is written down.
	cfg.WeChat.AppID = "wxgridbotdemo"
	cfg.WeChat.AppSecret = randomText(24)
	cfg.WeChat.Token = randomText(16)
	cfg.WeChat.AESKey = base64.StdEncoding.EncodeToString(randomBytes(32))[:43]
	cfg.WeChat.APIBase = simBase
	// The simulator's library templates, mapped as the README says; the
	// pages inside WeChat are the console's listener, web authorisation
	// the simulator's.
	cfg.WeChat.Templates, cfg.WeChat.Subscribe = simulatorTemplates()
	cfg.WeChat.PublicBase, cfg.WeChat.OAuthBase = base, simBase
	// Voice notes are heard by the simulator's stand-in for Tencent Cloud
	// ASR, in Cantonese as Kaiping speaks.
	cfg.ASR.Provider, cfg.ASR.Endpoint, cfg.ASR.Engine = "tencent", simBase, "16k_yue"
	cfg.ASR.SecretID, cfg.ASR.SecretKey = "AKIDdemo"+randomText(8), randomText(24)
	// The WeCom app, played by the simulator under /wecom/: leader A of
	// 石桥 works from WeCom, leader B from WeChat; the grid's team group
	// gets the morning digest and each new case.
	weComBase := simBase + "/wecom"
	cfg.WeCom.CorpID, cfg.WeCom.AgentID, cfg.WeCom.Secret = "wwgridbotdemo", "1000002", randomText(24)
	cfg.WeCom.Token, cfg.WeCom.AESKey = randomText(16), base64.StdEncoding.EncodeToString(randomBytes(32))[:43]
	cfg.WeCom.APIBase = weComBase
	cfg.Store.Path = filepath.Join(*dataDir, "gridbot.db")
	// Personal data is sealed at rest as in a town's service, with a key
	// file of the demo's own in its data folder, kept between runs.
	cfg.Crypto.KeyFile = filepath.Join(*dataDir, demoKeysFile)
	if _, err := os.Stat(cfg.Crypto.KeyFile); errors.Is(err, iofs.ErrNotExist) {
		if err := writeNewKeyFile(cfg.Crypto.KeyFile); err != nil {
			return fmt.Errorf("demo data keys: %w", err)
		}
	}
	cfg.Log.Format = "text"
	// A newcomer logs in with a password alone; serve asks for a second
	// factor unless told not to, and -second-factor shows it here.
	cfg.Security.SecondFactor = "off"
	if *secondFactor {
		cfg.Security.SecondFactor = "required"
	}

	passwords, err := demoPasswords(*dataDir, cityDemoLogins(*cityDemo)...)
	if err != nil {
		return err
	}
	if *cityDemo {
		return runCityDemo(ctx, cfg, cityDemoRun{ln: ln, simLn: simLn, base: base, simBase: simBase,
			passwords: passwords, history: *history, dataDir: *dataDir, secondFactor: *secondFactor}, env)
	}
	town, err := demoTown(weComBase, passwords)
	if err != nil {
		return err
	}
	log := newLogger(env.Stderr, cfg.Log.Format, cfg.Log.Level)
	a, err := newApp(ctx, cfg, town, instanceName(ln), log)
	if err != nil {
		ln.Close()
		simLn.Close()
		return err
	}

	contacts := []wechatsim.Contact{
		{OpenID: "oresident-demo-01", Label: "居民 甲"},
		{OpenID: "oresident-demo-02", Label: "居民 乙"},
	}
	for _, id := range []string{"gl-L10-a", "gl-L10-b"} {
		s := town.StaffMember(id)
		contacts = append(contacts, wechatsim.Contact{OpenID: s.Address(core.ChannelWeChat), Label: "网格员 " + s.Name})
	}
	sim := wechatsim.New(wechatsim.Config{Token: cfg.WeChat.Token, AppID: cfg.WeChat.AppID, AppSecret: cfg.WeChat.AppSecret,
		AESKey: cfg.WeChat.AESKey, CallbackURL: base + "/wechat", Contacts: contacts, Log: log,
		Templates: wechatsim.Library(), SubscribeTemplates: wechatsim.SubscribeLibrary(),
		OAuthDomains: []string{ln.Addr().String()}, ASRSecretID: cfg.ASR.SecretID, ASRSecretKey: cfg.ASR.SecretKey})
	weComSim := wecomsim.New(wecomsim.Config{CorpID: cfg.WeCom.CorpID, AgentID: 1000002, Secret: cfg.WeCom.Secret,
		Token: cfg.WeCom.Token, AESKey: cfg.WeCom.AESKey, CallbackURL: base + "/wecom", Log: log,
		Members: []wecomsim.Member{{UserID: demoWeComLeader, Name: "网格长 " + town.StaffMember("gl-L10-a").Name}},
		Robots:  map[string]string{"demo-l10": "石桥大网格 工作群", "demo-v10": "石桥村 工作群"}})
	simMux := http.NewServeMux()
	simMux.Handle("/wecom/", http.StripPrefix("/wecom", weComSim.Handler()))
	simMux.Handle("/", sim.Handler())
	simSrv := &http.Server{Handler: simMux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := simSrv.Serve(simLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("simulator", "err", err)
		}
	}()
	defer simSrv.Close()

	fmt.Fprintf(env.Stdout, "\ngridbot demo — %s\n\n", town.Name)
	fmt.Fprintf(env.Stdout, "  staff console:  %s/\n", base)
	fmt.Fprintf(env.Stdout, "  resident phone: %s/   (WeChat simulator; safe mode)\n", simBase)
	fmt.Fprintf(env.Stdout, "  staff WeCom:    %s/   (WeCom simulator: 何家豪's app chat and the grid groups)\n", weComBase)
	fmt.Fprintf(env.Stdout, "  data:           %s\n", cfg.Store.Path)
	fmt.Fprintf(env.Stdout, "  data keys:      %s   (phones, addresses, residents' words and photos sealed with SM4)\n\n", cfg.Crypto.KeyFile)
	if err := demoHistory(ctx, a, env.Stdout, *history); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "  logins (kept in %s between runs):\n", filepath.Join(*dataDir, demoLoginsFile))
	for _, l := range demoLogins {
		fmt.Fprintf(env.Stdout, "    %-15s %-11s %s\n", l.id, passwords[l.id], l.what)
	}
	if *secondFactor {
		fmt.Fprintf(env.Stdout, "\n  second factor: on — the first login of each shows a QR code for an authenticator app\n")
	} else {
		fmt.Fprintf(env.Stdout, "\n  second factor: off in the demo, so a password logs in (serve asks for an authenticator code\n")
		fmt.Fprintf(env.Stdout, "  at every console login; run demo -second-factor to try it)\n")
	}
	fmt.Fprintf(env.Stdout, "\n  try: on the phone send 报事, follow the steps, and send the location %.4f, %.4f (石桥村);\n", demoLat, demoLng)
	fmt.Fprintf(env.Stdout, "  the case appears on the console of gl-L10-a, in the 石桥 group, and in 何家豪's WeCom as a card whose\n")
	fmt.Fprintf(env.Stdout, "  详情 opens the case's page; answer there with 受理, 回复 … (then 照片 sends the resident a photo), 吹哨 … 城建办,\n")
	fmt.Fprintf(env.Stdout, "  办结 … (B岗 司徒惠珍 is on WeChat: send 请假 from 何家豪 and the next case reaches her phone; 通知走微信 moves\n")
	fmt.Fprintf(env.Stdout, "  his own notices to WeChat). The report form inside a resident's phone:\n")
	fmt.Fprintf(env.Stdout, "  %s/sim/open?openid=o_resident_demo&url=%s\n", simBase, url.QueryEscape(base+"/wx/report"))
	fmt.Fprint(env.Stdout, demoGuide)
	fmt.Fprintf(env.Stdout, "  Ctrl-C stops.\n\n")
	if env.Ready != nil {
		env.Ready(URLs{Console: base + "/", WeChat: base + "/wechat", Phone: simBase + "/", SimAPI: simBase, WeCom: weComBase + "/"})
	}
	return a.run(ctx, ln, nil)
}

// demoWeComLeader is the WeCom userid of 石桥's leader A in the demo.
const demoWeComLeader = "hejiahao"

// demoTown is the sample town with passwords set for the demo logins, 石桥's
// leader A on WeCom and its team groups on the simulator at weComBase.
func demoTown(weComBase string, passwords map[string]string) (*core.Town, error) {
	sample, err := configs.SampleTown()
	if err != nil {
		return nil, err
	}
	t := *sample
	t.Staff = append([]core.Staff(nil), sample.Staff...)
	t.Grids = append([]core.Grid(nil), sample.Grids...)
	t.Villages = append([]core.Village(nil), sample.Villages...)
	for i := range t.Grids {
		if t.Grids[i].ID == "L10" {
			t.Grids[i].RobotWebhook, t.Grids[i].RobotEachCase = weComBase+"/cgi-bin/webhook/send?key=demo-l10", true
		}
	}
	for i := range t.Villages {
		if t.Villages[i].ID == "v10" {
			t.Villages[i].RobotWebhook = weComBase + "/cgi-bin/webhook/send?key=demo-v10"
		}
	}
	for i := range t.Staff {
		if p, ok := passwords[t.Staff[i].ID]; ok {
			hash, err := bcrypt.GenerateFromPassword([]byte(p), bcrypt.MinCost)
			if err != nil {
				return nil, err
			}
			t.Staff[i].PasswordHash = string(hash)
		}
		if t.Staff[i].ID == "gl-L10-a" {
			t.Staff[i].Addresses = map[core.Channel]string{core.ChannelWeChat: t.Staff[i].Address(core.ChannelWeChat),
				core.ChannelWeCom: demoWeComLeader}
		}
	}
	return core.NewTown(t)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// randomText is n characters easy to read and type.
func randomText(n int) string {
	const letters = "abcdefghjkmnpqrstuvwxyz23456789"
	b := randomBytes(n)
	for i := range b {
		b[i] = letters[int(b[i])%len(letters)]
	}
	return string(b)
}
