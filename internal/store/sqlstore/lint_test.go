package sqlstore_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// Two vet-style checks over this package's source: every store call is
// bounded (item 2 of issue 14) and nothing inside a transaction takes a
// second connection from the pool (item 1).

func parsePackage(t *testing.T) (*token.FileSet, []*ast.File) {
	t.Helper()
	paths, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		t.Fatal("no source files found")
	}
	return fset, files
}

// dbMethods yields the methods of *DB.
func dbMethods(files []*ast.File, fn func(d *ast.FuncDecl)) {
	for _, f := range files {
		for _, decl := range f.Decls {
			d, ok := decl.(*ast.FuncDecl)
			if !ok || d.Recv == nil || len(d.Recv.List) != 1 || d.Body == nil {
				continue
			}
			if star, ok := d.Recv.List[0].Type.(*ast.StarExpr); ok {
				if id, ok := star.X.(*ast.Ident); ok && id.Name == "DB" {
					fn(d)
				}
			}
		}
	}
}

// TestEveryCallIsBounded: every exported method of *DB that takes a context
// starts with `ctx, cancel := s.bound(ctx)` and `defer cancel()`, so a
// request's store calls end by its call timeout however they wait.
func TestEveryCallIsBounded(t *testing.T) {
	fset, files := parsePackage(t)
	n := 0
	dbMethods(files, func(d *ast.FuncDecl) {
		params := d.Type.Params.List
		if !d.Name.IsExported() || len(params) == 0 || len(params[0].Names) == 0 || params[0].Names[0].Name != "ctx" {
			return
		}
		n++
		ok := len(d.Body.List) >= 2
		if ok {
			as, isAssign := d.Body.List[0].(*ast.AssignStmt)
			ok = isAssign && len(as.Lhs) == 2 && len(as.Rhs) == 1 && identName(as.Lhs[0]) == "ctx" && identName(as.Lhs[1]) == "cancel" &&
				callName(as.Rhs[0]) == "s.bound"
			def, isDefer := d.Body.List[1].(*ast.DeferStmt)
			ok = ok && isDefer && callName(def.Call) == "cancel"
		}
		if !ok {
			t.Errorf("%s: (*DB).%s does not start with `ctx, cancel := s.bound(ctx); defer cancel()`", fset.Position(d.Pos()), d.Name.Name)
		}
	})
	if n < 50 {
		t.Fatalf("found only %d exported methods taking a context; is the check looking at the right files?", n)
	}
}

// TestNoPoolUseInTransactions: code that runs inside a transaction — the
// functions given to inTx and inTxRetry, and every function taking a
// *sql.Tx — reaches the database only through the transaction. Taking
// another connection (s.db, s.dbQueryRow, s.dbExec, or an exported method,
// which uses the pool) while the transaction holds one deadlocks once every
// pooled connection is held so.
func TestNoPoolUseInTransactions(t *testing.T) {
	fset, files := parsePackage(t)
	exported := map[string]bool{}
	dbMethods(files, func(d *ast.FuncDecl) {
		if d.Name.IsExported() {
			exported[d.Name.Name] = true
		}
	})
	pool := map[string]bool{"db": true, "rev": true, "dbQueryRow": true, "dbExec": true}
	check := func(where string, body ast.Node) {
		ast.Inspect(body, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok || identName(sel.X) != "s" {
				return true
			}
			if pool[sel.Sel.Name] || exported[sel.Sel.Name] {
				t.Errorf("%s: %s uses s.%s inside a transaction; use the transaction (tx) instead", fset.Position(sel.Pos()), where, sel.Sel.Name)
			}
			return true
		})
	}
	checked := 0
	for _, f := range files {
		for _, decl := range f.Decls {
			d, ok := decl.(*ast.FuncDecl)
			if !ok || d.Body == nil {
				continue
			}
			if takesTx(d.Type) {
				check(d.Name.Name, d.Body)
				checked++
			}
			ast.Inspect(d.Body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				if name := callName(call); name == "s.inTx" || name == "s.inTxRetry" {
					for _, arg := range call.Args {
						if lit, ok := arg.(*ast.FuncLit); ok {
							check("a transaction of "+d.Name.Name, lit.Body)
							checked++
						}
					}
				}
				return true
			})
		}
	}
	if checked < 30 {
		t.Fatalf("checked only %d transaction bodies; is the check looking at the right files?", checked)
	}
}

func takesTx(ft *ast.FuncType) bool {
	for _, p := range ft.Params.List {
		if star, ok := p.Type.(*ast.StarExpr); ok {
			if sel, ok := star.X.(*ast.SelectorExpr); ok && identName(sel.X) == "sql" && sel.Sel.Name == "Tx" {
				return true
			}
		}
	}
	return false
}

func identName(e ast.Expr) string {
	if id, ok := e.(*ast.Ident); ok {
		return id.Name
	}
	return ""
}

// callName is "pkg.F", "s.M" or "f" for a call (or call expression).
func callName(e ast.Expr) string {
	call, ok := e.(*ast.CallExpr)
	if !ok {
		return ""
	}
	switch fn := call.Fun.(type) {
	case *ast.Ident:
		return fn.Name
	case *ast.SelectorExpr:
		if x := identName(fn.X); x != "" {
			return x + "." + fn.Sel.Name
		}
	}
	return ""
}
