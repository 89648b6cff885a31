# Latent-cluster model: the train fold's (log Likes, log Dislikes, log Bookmarks) form ~7 tight clusters (a GMM fitted
# on the train rows only); a classifier predicts the cluster from the inputs and P(class|x) = sum_c P(c|x) P(class|c),
# with P(class|c) counted on the train rows. Target columns are used only as training targets, never as inputs.
from oof import *
from sklearn.mixture import GaussianMixture
LOGC=np.c_[np.log10(df.Likes),np.log10(df.Dislikes),np.log10(df.Bookmarks)]
def latent(Xs, k=7, C=0.03, seed=0, clf=None):
    def fit(X,tr,va,y):
        g=GaussianMixture(k,n_init=3,random_state=seed).fit(LOGC[tr]); c=g.predict(LOGC[tr])
        Pyc=np.array([np.bincount(y[tr][c==j],minlength=3)+0.5 for j in range(k)]); Pyc/=Pyc.sum(1,keepdims=True)
        m=(clf or lr(C))(); m.fit(Xs[tr],c); Pc=np.zeros((len(va),k)); Pc[:,m.classes_]=m.predict_proba(Xs[va])
        return (Pc@Pyc).argmax(1)
    return fit
if __name__=='__main__':
    for k in (5,7,9):
        for C in (0.03,0.1,0.3):
            report('latent GMM%d LR C=%g'%(k,C),XB,fit=latent(XB,k,C))
